export { HistoryEventSchema, type HistoryEvent } from "./history-event.js";
export { HistoryRecorder, historyEventsMax, type OperationHandle } from "./history-recorder.js";
export {
  HistoryFileError,
  historyLineCharactersMax,
  parseHistory,
  readHistory,
  writeHistory,
  type HistoryFileErrorCode,
  type ParseHistoryResult,
} from "./history-file.js";
