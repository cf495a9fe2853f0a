import { lockstepProject } from "@lockstep/vitest-config";

// test/global-setup.ts builds the node: the container test runs it from a `pnpm deploy` folder.
export default lockstepProject("deploy", { globalSetup: ["test/global-setup.ts"] });
