import { lockstepProject } from "@lockstep/vitest-config";

// test/global-setup.ts builds dist/ once: the integration tests in test/ run the built node.
export default lockstepProject("node", { globalSetup: ["test/global-setup.ts"] });
