// The share of stolen vCPU time over a window (steal.mjs), against counters whose true value is known at every
// instant: both grow linearly between the sample times, so interpolation must recover them exactly.
import assert from 'node:assert/strict';
import test from 'node:test';
import { sampleSteal } from './steal.mjs';

// Two vCPUs at 100 ticks/s: 0.2 ticks of vCPU time per ms. From t = 1000 ms a quarter of it is stolen.
const total = (t) => 0.2 * t;
const stolen = (t) => (t < 1000 ? 0 : 0.05 * (t - 1000));

function sampler(times) {
    let now = times[0];
    const s = sampleSteal({ everyMs: 0, clock: () => now, read: () => ({ steal: stolen(now), total: total(now) }) });
    for (const t of times.slice(1)) { now = t; s.sample(); }
    return { s, setNow: (t) => { now = t; } };
}

test('the stolen share of a window between samples', () => {
    const { s } = sampler([0, 500, 1000, 1500, 2000, 2500]);
    assert.equal(s.during(750, 1750), 0.05 * 750 / (0.2 * 1000));
    assert.equal(s.during(1200, 2400), 0.25);
    assert.equal(s.during(0, 1000), 0);
});

test('a window that ends after the last sample is measured up to a sample taken then', () => {
    const { s, setNow } = sampler([0, 1000]);
    setNow(3000);
    assert.equal(s.during(1000, 3000), 0.25);
});

test('a window before the first sample, or no /proc/stat, gives no figure', () => {
    const { s } = sampler([1000, 2000]);
    assert.equal(s.during(500, 1500), undefined);
    const none = sampleSteal({ everyMs: 0, read: () => { throw new Error('ENOENT'); } });
    assert.equal(none.during(0, 1), undefined);
});

test('the real counters, where there are any, give a share between 0 and 1', async () => {
    const s = sampleSteal({ everyMs: 10 });
    const from = Date.now();
    await new Promise((ok) => setTimeout(ok, 120));
    const share = s.during(from, Date.now());
    s.stop();
    if (share !== undefined) assert.ok(share >= 0 && share <= 1, `share ${share}`);
});
