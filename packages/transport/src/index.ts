export { failureLine, integerFlag, type UsageErrorFactory, urlListFlag } from './cli-flags.js';
export { drawClientId } from './client-id.js';
export { type Clock, realClock, sleep, type TimerHandle } from './clock.js';
export { decode, encode } from './codec.js';
export {
  AuthFailedError,
  BadArgumentsError,
  ClientClosedError,
  CodecError,
  FrameTooLargeError,
  RpcError,
  ServiceDefinitionError,
  SimNetworkError,
  SimulationError,
  TransportError,
} from './errors.js';
export { INTERRUPTED, Interrupter } from './interrupter.js';
export {
  type LeaderAnswer,
  LeaderCaller,
  type LeaderCallerErrors,
  type LeaderCallerOptions,
  type LeaderJudge,
  refusal,
} from './leader-caller.js';
export { type Logger, rateLimitedLogger, silentLogger, stderrLogger } from './logger.js';
export { type Random, randomSeed, SeededRandom, systemRandom } from './random.js';
export {
  type CallContext,
  type CallOptions,
  type CallResult,
  type ClientEnd,
  type Handler,
  isRetryable,
  isServerAnswer,
  type NoReplyCode,
  type NoReplyKind,
  noReplyKind,
  type ServiceMethods,
  unwrap,
  validated,
} from './rpc.js';
export { type DispatchResult, RpcServer, type RpcServerOptions } from './rpc-server.js';
export { Serial } from './serial.js';
export {
  type Guard,
  hasFields,
  isNonNegativeInteger,
  isPositiveInteger,
  isRecord,
  utf8BytesOver,
} from './shape.js';
export { SimClientEnd, SimNetwork, type SimNetworkOptions } from './sim/sim-network.js';
export {
  chooseSeed,
  hashSeed,
  type Sim,
  type SimulateOptions,
  type SimulateTestOptions,
  type SimulationReport,
  seedFor,
  simulate,
  simulateTest,
} from './simulate.js';
export { VirtualClock } from './virtual-clock.js';
export { CLERK_RECONNECT, connectEnds } from './ws/connect-ends.js';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
  DEFAULT_MAX_QUEUED_CALLS,
  DEFAULT_RECONNECT_INITIAL_DELAY_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
} from './ws/defaults.js';
export { CloseCode, PROTOCOL_VERSION } from './ws/frames.js';
export { PEER_CALL_TIMEOUT_MS, PEER_RECONNECT, peerClient } from './ws/peer-client.js';
export {
  type ReconnectOptions,
  WsClient,
  type WsClientOptions,
  type WsClientState,
} from './ws/ws-client.js';
export { WsServer, type WsServerOptions } from './ws/ws-server.js';
export {
  checkWsUrls,
  listenAddress,
  type OptionErrorFactory,
  parseWsUrl,
} from './ws/ws-urls.js';
