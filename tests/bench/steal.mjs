// The hypervisor's share of this VM's vCPUs ("steal" in /proc/stat: time a vCPU had work but the host ran something
// else), sampled through a benchmark run so that each timed epoch can say how much of its wall time the machine
// took away. On the shared 2-vCPU VM of README "Benchmarks" it moved from 0 to 35% between configurations minutes
// apart (PROFILE.md, "2026-12-08: the hypervisor's share").
import { readFileSync } from 'node:fs';

// Whole-machine counters (the `cpu` line, in ticks): steal and the sum of the eight time fields up to it.
function readCounters() {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: f[7], total: f.reduce((a, b) => a + b, 0) };
}

// Samples every `everyMs` until stop(); during(fromMs, toMs) (Unix ms, as Date.now() and performance.timeOrigin +
// performance.now() give them) is the fraction of all vCPU time in that window that was stolen, with the counters
// interpolated between samples, or undefined where /proc/stat cannot be read or the window was not sampled.
// `read` and `clock` are for tests; `everyMs` 0 takes samples only when asked (sample(), during()).
export function sampleSteal({ everyMs = 50, read = readCounters, clock = Date.now } = {}) {
    const samples = [];
    const sample = () => { try { samples.push({ t: clock(), ...read() }); } catch { /* not Linux */ } };
    sample();
    const timer = everyMs > 0 ? setInterval(sample, everyMs) : null;
    timer?.unref();
    const at = (t, key) => {
        const i = samples.findIndex((s) => s.t >= t);
        if (i < 0 || (i === 0 && samples[0].t !== t)) return NaN;
        if (i === 0) return samples[0][key];
        const a = samples[i - 1], b = samples[i];
        return a[key] + (b[key] - a[key]) * (t - a.t) / (b.t - a.t);
    };
    return {
        sample,
        during(fromMs, toMs) {
            sample();
            const stolen = at(toMs, 'steal') - at(fromMs, 'steal'), total = at(toMs, 'total') - at(fromMs, 'total');
            return total > 0 ? stolen / total : undefined;
        },
        stop() { clearInterval(timer); },
    };
}
