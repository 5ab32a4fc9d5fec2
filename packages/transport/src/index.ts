export { type Clock, realClock, sleep, type TimerHandle } from './clock.js';
export { decode, encode } from './codec.js';
export {
  BadArgumentsError,
  CodecError,
  FrameTooLargeError,
  RpcError,
  ServiceDefinitionError,
  SimNetworkError,
  SimulationError,
  TransportError,
} from './errors.js';
export { type Logger, rateLimitedLogger, silentLogger, stderrLogger } from './logger.js';
export { type Random, randomSeed, SeededRandom, systemRandom } from './random.js';
export {
  type CallContext,
  type CallOptions,
  type CallResult,
  type ClientEnd,
  type Handler,
  type NoReplyCode,
  type ServiceMethods,
  unwrap,
  validated,
} from './rpc.js';
export { type DispatchResult, RpcServer, type RpcServerOptions } from './rpc-server.js';
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
export { CloseCode, PROTOCOL_VERSION } from './ws/frames.js';
export {
  type ReconnectOptions,
  WsClient,
  type WsClientOptions,
  type WsClientState,
} from './ws/ws-client.js';
export { DEFAULT_MAX_FRAME_BYTES, WsServer, type WsServerOptions } from './ws/ws-server.js';
