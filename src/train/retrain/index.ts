// Scheduled online retraining: window -> schedule -> worker -> gate -> registry -> swap + announce.
export { RetrainError, type RetrainProblem } from './errors.js';
export {
  InlierWindow,
  packSamples,
  unpackSamples,
  readWindowFromKafka,
  type WindowSample,
  type WindowBounds,
  type PackedSamples,
  type KafkaWindowOptions,
} from './window.js';
export {
  RetrainScheduler,
  type SchedulerOptions,
  type SchedulerStats,
  type Trigger,
  type TriggerReason,
} from './scheduler.js';
export {
  makeCodec,
  decodeAll,
  runTrainJob,
  type CodecConfig,
  type TrainJob,
  type TrainReply,
  type TrainSummary,
} from './job.js';
export { trainInWorker, trainWorkerUrl, type WorkerOptions } from './worker.js';
export {
  validateChallenger,
  checkTraining,
  gradeRecords,
  ksDistance,
  decisionJson,
  DEFAULT_GATE,
  type GateConfig,
  type GateDecision,
  type GateReason,
  type GateCode,
  type GateModel,
  type GateMetrics,
} from './gate.js';
export {
  Retrainer,
  canResume,
  splitHoldout,
  loadCurrent,
  validationOf,
  type RetrainerOptions,
  type RetrainOutcome,
  type RetrainResult,
  type Trainer,
} from './retrainer.js';
export {
  announce,
  announcementOf,
  encodeAnnouncement,
  decodeAnnouncement,
  loadAnnounced,
  modelsTopicSpec,
  AnnouncementListener,
  AnnouncementError,
  type ModelAnnouncement,
  type ListenerOptions,
} from './announce.js';
