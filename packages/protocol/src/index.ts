export * from "./ids.js";
export * from "./commands.js";
export * from "./messages.js";
export * from "./client-api.js";
