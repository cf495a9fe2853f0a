import { lockstepProject } from "@lockstep/vitest-config";

export default lockstepProject("certs");
