import type { Clock, Random } from '@flotilla/transport';
import { type RawData, WebSocket } from 'ws';
import { FaultPipe, type PipeStats } from './fault-pipe.js';
import type { ResolvedProxyFaults } from './faults.js';

/** One WebSocket message as it came off the wire: relayed whole, text or binary as it was. */
export interface Frame {
  readonly data: RawData;
  readonly isBinary: boolean;
}

export interface RelayOptions {
  /** The accepted connection (the dialing side). */
  readonly client: WebSocket;
  readonly target: string;
  readonly faults: ResolvedProxyFaults;
  readonly random: Random;
  readonly clock: Clock;
  readonly maxPayloadBytes: number;
  readonly maxQueuedMessages: number;
  readonly stats: { readonly forward: PipeStats; readonly backward: PipeStats };
  /** Called once, when both sockets are closed or being closed. */
  readonly onClosed: (relay: Relay) => void;
}

/**
 * One accepted connection and the connection it dials to the target, with a FaultPipe per
 * direction. Whatever closes one side closes the other: the relay never outlives either.
 *
 * Backpressure: per direction, the messages in the pipe, waiting for the target to open, or
 * handed to `send` and not yet written count against `maxQueuedMessages`; at the limit the
 * relay stops reading the source socket (TCP then pushes back on the sender) and reads again
 * once the count is down to half. Memory is thus bounded by about maxQueuedMessages ×
 * maxPayloadBytes per direction and connection.
 */
export class Relay {
  readonly #client: WebSocket;
  readonly #target: WebSocket | undefined;
  readonly #forward: FaultPipe<Frame>;
  readonly #backward: FaultPipe<Frame>;
  readonly #options: RelayOptions;
  /** Frames for the target that arrived before it opened. */
  readonly #early: Frame[] = [];
  readonly #unsent = { forward: 0, backward: 0 };
  #closed = false;

  constructor(options: RelayOptions) {
    this.#options = options;
    this.#client = options.client;
    const { random, clock, faults, stats } = options;
    this.#forward = new FaultPipe<Frame>({
      random,
      clock,
      faults: faults.forward,
      stats: stats.forward,
      deliver: (frame) => this.#toTarget(frame),
    });
    this.#backward = new FaultPipe<Frame>({
      random,
      clock,
      faults: faults.backward,
      stats: stats.backward,
      deliver: (frame) => this.#send(this.#client, frame, 'backward'),
    });
    // A connection accepted while requests are blackholed never reaches the target: it could
    // only open there a connection that says nothing. The proxy cuts it when the blackhole
    // lifts, so the dialer reconnects to a fresh one.
    this.#target = faults.forward.blackhole ? undefined : this.#dial(options.target);
    this.#client.on('message', (data, isBinary) => {
      this.#forward.push({ data, isBinary });
      this.#pressure('forward');
    });
    this.#client.on('close', (code, reason) => this.#closeOther(this.#target, code, reason));
    this.#client.on('error', () => this.cut());
  }

  setFaults(faults: ResolvedProxyFaults): void {
    this.#forward.setFaults(faults.forward);
    this.#backward.setFaults(faults.backward);
  }

  /** Ends both connections at once, as a failed network would (the peers see code 1006). */
  cut(): void {
    this.#finish();
    this.#client.terminate();
    this.#target?.terminate();
  }

  #dial(url: string): WebSocket {
    const target = new WebSocket(url, {
      maxPayload: this.#options.maxPayloadBytes,
      perMessageDeflate: false,
    });
    target.on('open', () => {
      for (const frame of this.#early.splice(0)) this.#send(target, frame, 'forward');
    });
    target.on('message', (data, isBinary) => {
      this.#backward.push({ data, isBinary });
      this.#pressure('backward');
    });
    target.on('close', (code, reason) => this.#closeOther(this.#client, code, reason));
    // A refused or failed dial: the client sees its connection cut, as if the target were down.
    target.on('error', () => this.cut());
    return target;
  }

  #toTarget(frame: Frame): void {
    const target = this.#target;
    if (target === undefined) return;
    if (target.readyState === WebSocket.CONNECTING) this.#early.push(frame);
    else this.#send(target, frame, 'forward');
  }

  #send(socket: WebSocket, frame: Frame, direction: 'forward' | 'backward'): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    this.#unsent[direction]++;
    socket.send(frame.data, { binary: frame.isBinary }, () => {
      this.#unsent[direction]--;
      this.#pressure(direction);
    });
  }

  #queued(direction: 'forward' | 'backward'): number {
    const pipe = direction === 'forward' ? this.#forward : this.#backward;
    const early = direction === 'forward' ? this.#early.length : 0;
    return pipe.pending + early + this.#unsent[direction];
  }

  // Pauses or resumes the socket that feeds `direction` (see the class comment).
  #pressure(direction: 'forward' | 'backward'): void {
    const source = direction === 'forward' ? this.#client : this.#target;
    if (source === undefined || this.#closed) return;
    const queued = this.#queued(direction);
    const limit = this.#options.maxQueuedMessages;
    if (!source.isPaused && queued >= limit) source.pause();
    else if (source.isPaused && queued <= limit / 2) source.resume();
  }

  // Passes a close on to the other side; a code that may not be sent (1005, 1006) becomes a cut.
  #closeOther(other: WebSocket | undefined, code: number, reason: Buffer): void {
    this.#finish();
    if (other === undefined) return;
    if (other.readyState === WebSocket.CLOSED || other.readyState === WebSocket.CLOSING) return;
    if (other.readyState === WebSocket.OPEN && isSendableCloseCode(code)) {
      other.close(code, reason);
    } else {
      other.terminate();
    }
  }

  // Drops what is in flight: nothing may be delivered once either side is gone.
  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#forward.clear();
    this.#backward.clear();
    // They were counted as forwarded when the pipe let them through; they never were.
    this.#options.stats.forward.forwarded -= this.#early.length;
    this.#options.stats.forward.dropped += this.#early.length;
    this.#early.length = 0;
    this.#options.onClosed(this);
  }
}

function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}
