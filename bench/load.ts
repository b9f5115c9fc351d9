import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export type HttpRequest = { method: 'GET' | 'POST'; path: string; body?: string; headers: Record<string, string> };

export type RunResult = {
  target: 'app' | 'baseline' | 'peer';
  kind: 'throughput' | 'latency';
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  // Responses with a status the scenario does not expect, plus connection errors and timeouts.
  errors: number;
  statusCodes: Record<string, number>;
  durationSec: number;
};

export type LoadOptions = {
  url: string;
  connections: number;
  // Either a duration in seconds or a fixed number of requests (the smoke test's tiny runs).
  durationSec: number;
  amount?: number | undefined;
  // Fixed request rate for latency runs (coordinated omission is corrected by autocannon).
  overallRate?: number | undefined;
  next: () => HttpRequest | null;
  expected: number[];
};

/** One autocannon run; `next` gives each request (null when a finite supply runs out, which ends the run). */
export function load(target: RunResult['target'], kind: RunResult['kind'], o: LoadOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let exhausted = false;
    // Requests sent after a finite supply ran out (to /healthz, while the run stops) are not the scenario's.
    let fillers = 0;
    const instance = autocannon(
      {
        url: o.url,
        // autocannon refuses more connections than requests (the smoke run's tiny amounts).
        connections: o.amount ? Math.min(o.connections, o.amount) : o.connections,
        ...(o.amount ? { amount: o.amount } : { duration: o.durationSec }),
        ...(o.overallRate ? { overallRate: o.overallRate } : {}),
        timeout: 10,
        // autocannon ends a run on its sampling tick: short runs (the smoke test) need a short tick.
        sampleInt: o.amount || o.durationSec < 2 ? 100 : 1000,
        requests: [
          {
            setupRequest: (req) => {
              const r = o.next();
              if (!r) {
                if (!exhausted) {
                  exhausted = true;
                  setImmediate(() => instance.stop());
                }
                fillers++;
                return { ...req, method: 'GET', path: '/healthz', headers: {} };
              }
              return { ...req, method: r.method, path: r.path, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}) };
            },
          },
        ],
      },
      (err, res) => {
        if (err) return reject(err);
        const statusCodes: Record<string, number> = {};
        let unexpected = 0;
        for (const [code, s] of Object.entries(res.statusCodeStats ?? {})) {
          const n = s?.count ?? 0;
          statusCodes[code] = n;
          if (!o.expected.includes(Number(code))) unexpected += n;
        }
        if (fillers && statusCodes['200']) {
          const n = Math.min(fillers, statusCodes['200']);
          statusCodes['200'] -= n;
          if (!o.expected.includes(200)) unexpected -= n;
        }
        const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
        resolve({
          target,
          kind,
          requests,
          reqPerSec: res.duration > 0 ? requests / res.duration : 0,
          p50: res.latency.p50,
          p99: res.latency.p99,
          errors: unexpected + res.errors,
          statusCodes,
          durationSec: res.duration,
        });
      },
    );
  });
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Samples a process's resident memory: the peak of VmRSS samples and the kernel's own high-water mark. */
export class RssSampler {
  peakKb = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(readonly pid: number) {}

  private read(field: 'VmRSS' | 'VmHWM'): number {
    try {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  }

  start(everyMs = 200): void {
    this.timer = setInterval(() => {
      this.peakKb = Math.max(this.peakKb, this.read('VmRSS'));
    }, everyMs);
    this.timer.unref();
  }

  stop(): { peakRssMb: number; hwmMb: number } {
    if (this.timer) clearInterval(this.timer);
    const hwm = this.read('VmHWM');
    return { peakRssMb: Math.round(Math.max(this.peakKb, this.read('VmRSS')) / 102.4) / 10, hwmMb: Math.round(hwm / 102.4) / 10 };
  }
}
