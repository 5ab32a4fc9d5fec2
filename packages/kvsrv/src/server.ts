import { type RpcServer, type ServiceMethods, utf8BytesOver, validated } from '@flotilla/transport';
import {
  checkLimits,
  concatSizeOver,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  type Limits,
} from './limits.js';
import {
  type GetArgs,
  isGetArgs,
  isUpdateArgs,
  type Refusal,
  type Reply,
  SERVICE,
  type UpdateArgs,
} from './protocol.js';
import { Sessions } from './sessions.js';

export interface KvServerOptions {
  /** Longest key accepted, in UTF-8 bytes (default 4 KiB). */
  readonly maxKeyBytes?: number;
  /** Largest value stored or sent, in UTF-8 bytes (default 32 MiB); an Append past it is refused. */
  readonly maxValueBytes?: number;
}

export interface KvServerStats {
  /** Keys with a non-empty value. */
  readonly keys: number;
  /** Clerks the duplicate table remembers (one per clerk that ever sent a Put or Append). */
  readonly clients: number;
  /** Append replies kept for clerks that may still retry them. */
  readonly cachedReplies: number;
}

/**
 * The lab's single key/value server: Get, Put, and Append (which answers the old value), each
 * Put/Append applied exactly once however often its clerk resends it. Handlers are
 * synchronous, so every operation takes effect at one instant: the server is linearizable.
 * No persistence and no replication (see @flotilla/kvraft for that).
 *
 * Register it on an `RpcServer` (`server.register(rpc)`) to serve it on a `SimNetwork` or
 * a `WsServer`; `listenKvServer` does the latter in one call.
 */
export class KvServer {
  readonly limits: Limits;
  /** Only non-empty values: a missing key reads as "". */
  readonly #data = new Map<string, string>();
  readonly #sessions = new Sessions();

  constructor(options: KvServerOptions = {}) {
    this.limits = checkLimits({
      maxKeyBytes: options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES,
      maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    });
  }

  /** The `KVServer` service's handlers; arguments of the wrong shape get `BAD_ARGUMENTS`. */
  service(): ServiceMethods {
    return {
      Get: validated(isGetArgs, (args) => this.#get(args)),
      Put: validated(isUpdateArgs, (args) => this.#update(args, false)),
      Append: validated(isUpdateArgs, (args) => this.#update(args, true)),
    };
  }

  /** Adds the `KVServer` service to `rpc`. */
  register(rpc: RpcServer): this {
    rpc.addService(SERVICE, this.service());
    return this;
  }

  /** The current value of `key` ("" if never written), read locally. */
  read(key: string): string {
    return this.#data.get(key) ?? '';
  }

  get stats(): KvServerStats {
    return {
      keys: this.#data.size,
      clients: this.#sessions.clients,
      cachedReplies: this.#sessions.cachedReplies,
    };
  }

  #get(args: GetArgs): Reply {
    const refusal = this.#checkKey(args.key);
    if (refusal !== undefined) return refusal;
    if (args.clientId !== undefined && args.seq !== undefined)
      this.#sessions.acknowledge(args.clientId, args.seq);
    return { value: this.read(args.key) };
  }

  #update(args: UpdateArgs, append: boolean): Reply {
    const { key, value, clientId, seq } = args;
    switch (this.#sessions.arrival(clientId, seq)) {
      case 'stale':
        // The clerk has moved past this request, so nobody waits for this answer.
        return { err: 'STALE' };
      case 'duplicate':
        return append ? { value: this.#sessions.appendReply(clientId) } : {};
      case 'new':
        this.#sessions.acknowledge(clientId, seq - 1);
        break;
    }
    // A refused request changes nothing and is not recorded: a resent copy is judged afresh,
    // and the clerk acts on whichever answer reaches it first.
    const refusal = this.#checkKey(key) ?? this.#checkValue(value);
    if (refusal !== undefined) return refusal;
    if (!append) {
      this.#store(key, value);
      this.#sessions.applied(clientId, seq);
      return {};
    }
    const old = this.read(key);
    const size = concatSizeOver(old, value, this.limits.maxValueBytes);
    if (size > 0) return { err: 'VALUE_TOO_LARGE', size, limit: this.limits.maxValueBytes };
    this.#store(key, old + value);
    this.#sessions.applied(clientId, seq, old);
    return { value: old };
  }

  #store(key: string, value: string): void {
    if (value === '') this.#data.delete(key);
    else this.#data.set(key, value);
  }

  #checkKey(key: string): Refusal | undefined {
    const size = utf8BytesOver(key, this.limits.maxKeyBytes);
    return size > 0 ? { err: 'KEY_TOO_LARGE', size, limit: this.limits.maxKeyBytes } : undefined;
  }

  #checkValue(value: string): Refusal | undefined {
    const size = utf8BytesOver(value, this.limits.maxValueBytes);
    return size > 0
      ? { err: 'VALUE_TOO_LARGE', size, limit: this.limits.maxValueBytes }
      : undefined;
  }
}
