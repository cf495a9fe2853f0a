import { lockstepConfig } from "@lockstep/eslint-config";

export default lockstepConfig(import.meta.dirname);
