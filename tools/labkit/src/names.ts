/** How a cluster names its servers on the network: server i of the cluster is `name(i)`. */
export type ServerNaming = (i: number) => string;

/** kvraft's and shardctrler's own tester: server i is `"i"`. */
export const plainServerName: ServerNaming = (i) => String(i);

/** The shardkv tester's replica group `gid`: server i is `"server-<gid>-<i>"`. */
export function groupServerName(gid: number): ServerNaming {
  return (i) => `server-${gid}-${i}`;
}

/** The shardkv tester's controller servers: `"ctrler<i>"`. */
export const ctrlerServerName: ServerNaming = (i) => `ctrler${i}`;
