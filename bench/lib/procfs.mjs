// Readings from /proc (Linux): CPU time and memory of the services, and the machine facts.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

/** Kernel clock ticks per second for /proc/PID/stat times (USER_HZ, 100 on Linux). */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of one process, in ticks; 0 once it is gone. */
function ownTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of stat(5)
  } catch {
    return 0;
  }
}

/** Direct children of a process, across all its threads. */
function childrenOf(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(' ').map(Number));
    }
  } catch {
    // gone, or no children file on this kernel
  }
  return out;
}

/** CPU seconds used so far by a process and its live descendants. */
export function cpuSeconds(pid) {
  let ticks = 0;
  const seen = new Set();
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop();
    if (seen.has(next)) continue;
    seen.add(next);
    ticks += ownTicks(next);
    stack.push(...childrenOf(next));
  }
  return ticks / CLOCK_TICKS;
}

/**
 * CPU seconds the whole machine spent busy so far, summed over cores, from /proc/stat:
 * user, nice and system, plus steal (time the hypervisor gave to another guest). Interrupt
 * time is left out: the loopback traffic of the bench itself is partly accounted there.
 */
export function machineBusySeconds() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , , , steal = 0] = fields;
    return (user + nice + system + steal) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
export function memoryMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Output of a command, or null when it fails. */
function run(command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** What the figures depend on: hardware, Node, versions, and how busy the machine was. */
export function machineFacts(root, versions) {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  const commit = run('git', ['rev-parse', '--short', 'HEAD'], root);
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], root);
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel,
    nproc: Number(run('nproc', [])) || os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: os.loadavg().map((value) => Math.round(value * 100) / 100),
    clockTicksPerSecond: CLOCK_TICKS,
    parleyCommit: commit === null ? null : `${commit}${dirty ? '+dirty' : ''}`,
    ...versions,
  };
}
