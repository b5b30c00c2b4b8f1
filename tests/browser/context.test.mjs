// Cohort and country from real traffic: a package built for a partner
// (`kmh package --cohort --country`) and a launch URL's `cohort=` /
// `country=` put them on every statement, and the analytics filter by them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  tmpdir, freePort, startLrs, startStatic, startBrowser, statements, adminCredential, buildPackage,
} from './helpers.mjs';

let browser;
before(async () => { browser = await startBrowser(); });
after(async () => { await browser?.stop(); });

async function waitFor(fn, what, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const COHORT = 'urn:kmh:ext:cohort';
const COUNTRY = 'urn:kmh:ext:country';

async function overview(lrsUrl, admin, query) {
  const base = lrsUrl.replace(/\/xapi\/$/, '');
  const auth = 'Basic ' + Buffer.from(`${admin.key}:${admin.secret}`).toString('base64');
  const r = await fetch(`${base}/analytics/overview?course=demo-course&${new URLSearchParams(query)}`, { headers: { Authorization: auth } });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

test('a partner package and launch parameters give statements their cohort and country; /analytics filters by them', async () => {
  const data = tmpdir('kmh-lrs-');
  const lrs = await startLrs(await freePort(), data);
  const admin = await adminCredential(data);
  const pkg = buildPackage(lrs.url, data, 'scorm2004', { extra: ['--cohort', '2026-SN1', '--country', 'sn'] });
  const config = JSON.parse(fs.readFileSync(path.join(pkg.dir, 'kmh-runtime.json'), 'utf8'));
  assert.deepEqual(config.context, { cohort: '2026-SN1', country: 'SN' }, 'kmh-runtime.json holds the package context');
  const web = await startStatic(pkg.dir);
  const page = await browser.context.newPage();
  const frame = () => page.frameLocator('#sco').frameLocator('#kmh-frame');
  const at = (file) => waitFor(() => (page.frame({ name: 'kmh-content' })?.url() ?? '').endsWith(file), file);
  const toQuiz = async () => {
    await at('m01-basics/index.html');
    for (const next of ['pages/01-welcome.html', 'pages/02-charts.html', 'quiz/check.html']) {
      await frame().locator('a.kmh-next').click();
      await at(next);
    }
  };
  try {
    // 1. In the partner's LMS (SCORM 2004): the package's cohort and country.
    await page.goto(`${web.url}/host.html?v=2004&learner=learner-sn&sco=${encodeURIComponent('/pkg/m01-basics/launch.html')}`);
    await toQuiz();
    const f = frame();
    await f.locator('#q-define-c2').check();
    await f.locator('#q-levels-c1').check();
    await f.locator('#q-levels-c2').check();
    await f.locator('#q-continuous-false').check();
    await f.locator('#q-pairs-p1').selectOption('What is measured along the bottom');
    await f.locator('#q-pairs-p2').selectOption('What is measured up the side');
    await f.locator('#q-smart-answer').fill('Measurable');
    await f.locator('form.kmh-quiz button[type=submit]').click();
    await waitFor(async () => /100 %/.test(await f.locator('.kmh-result').textContent()), 'score');
    await page.goto(`${web.url}/blank.html`);
    const first = await waitFor(async () => {
      const s = await statements(lrs.url, admin);
      return s.some((x) => x.verb.id.endsWith('/terminated')) ? s : null;
    }, 'terminated');
    assert.ok(first.length >= 10, `a visit's statements: ${first.length}`);
    for (const s of first) {
      assert.equal(s.context.extensions?.[COHORT], '2026-SN1', `${s.verb.id} carries the cohort`);
      assert.equal(s.context.extensions?.[COUNTRY], 'SN', `${s.verb.id} carries the country`);
    }
    const define = first.find((s) => s.verb.id.endsWith('/answered') && s.object.id.endsWith('/define'));
    assert.equal(define.object.definition.extensions['urn:kmh:ext:tag'], 'knowledge', 'the question tag travels in its definition');

    // 2. Standalone launch: the launch URL's cohort and country win.
    const actor = { objectType: 'Agent', name: 'Mariam', mbox: 'mailto:mariam@example.org' };
    const auth = 'Basic ' + Buffer.from(`${config.lrs.key}:${config.lrs.secret}`).toString('base64');
    const q = new URLSearchParams({
      endpoint: lrs.url, auth, actor: JSON.stringify(actor),
      registration: '7d2f4f1e-3c55-4c1b-8d0e-2a6b9c1f0e11', cohort: '2026-ML1', country: 'ml',
    });
    await page.goto(`${web.url}/pkg/m01-basics/launch.html?${q}`);
    await waitFor(() => (page.frame({ name: 'kmh-content' })?.url() ?? '').endsWith('m01-basics/index.html'), 'module start');
    await page.goto(`${web.url}/blank.html`);
    const mine = await waitFor(async () => {
      const s = (await statements(lrs.url, admin)).filter((x) => x.actor.mbox === actor.mbox);
      return s.some((x) => x.verb.id.endsWith('/suspended')) ? s : null;
    }, 'suspended');
    for (const s of mine) assert.deepEqual([s.context.extensions[COHORT], s.context.extensions[COUNTRY]], ['2026-ML1', 'ML']);

    // 3. The analytics see both learners, by cohort and by country.
    const all = await overview(lrs.url, admin, {});
    assert.equal(all.summary.enrolled, 2);
    assert.deepEqual(all.options.cohorts, [{ value: '2026-ML1', learners: 1 }, { value: '2026-SN1', learners: 1 }]);
    assert.deepEqual(all.options.countries, [{ value: 'ML', learners: 1 }, { value: 'SN', learners: 1 }]);
    const sn = await overview(lrs.url, admin, { cohort: '2026-SN1', country: 'SN' });
    assert.deepEqual([sn.summary.enrolled, sn.summary.started, sn.summary.completed], [1, 1, 1]);
    const check = sn.funnel.find((m) => m.module === 'm01-basics');
    assert.deepEqual([check.started, check.passed], [1, 1]);
    const ml = await overview(lrs.url, admin, { country: 'ML' });
    assert.deepEqual([ml.summary.enrolled, ml.summary.completed], [1, 0]);
    assert.equal((await overview(lrs.url, admin, { cohort: '2026-SN1', country: 'ML' })).summary.enrolled, 0);
  } finally {
    await page.close();
    await web.stop();
    await lrs.stop();
    fs.rmSync(data, { recursive: true, force: true });
    fs.rmSync(pkg.out, { recursive: true, force: true });
  }
});

test('a module without a pass mark reports its weighted score, which the analytics use as the module score', async () => {
  const data = tmpdir('kmh-lrs-');
  const lrs = await startLrs(await freePort(), data);
  const admin = await adminCredential(data);
  const pkg = buildPackage(lrs.url, data, 'scorm2004');
  const config = JSON.parse(fs.readFileSync(path.join(pkg.dir, 'kmh-runtime.json'), 'utf8'));
  const web = await startStatic(pkg.dir);
  const page = await browser.context.newPage();
  const frame = () => page.frameLocator('#kmh-frame');
  const at = (file) => waitFor(() => (page.frame({ name: 'kmh-content' })?.url() ?? '').endsWith(file), file);
  try {
    const actor = { objectType: 'Agent', name: 'Kofi', mbox: 'mailto:kofi@example.org' };
    const auth = 'Basic ' + Buffer.from(`${config.lrs.key}:${config.lrs.secret}`).toString('base64');
    const q = new URLSearchParams({ endpoint: lrs.url, auth, actor: JSON.stringify(actor), registration: '0b8f3a52-6f0e-4f55-9d1e-3c2a1b0f9e21' });
    await page.goto(`${web.url}/pkg/m00-pre/launch.html?${q}`);
    await at('m00-pre/index.html');
    await frame().locator('a.kmh-next').click();
    await at('m00-pre/shared/ksa.html');
    await frame().locator('#q-k-one-c1').check();
    await frame().locator('#q-a-feel-4').check();
    await frame().locator('form.kmh-quiz button[type=submit]').click();
    await waitFor(async () => /100 %/.test(await frame().locator('.kmh-result').textContent()), 'score');
    await page.goto(`${web.url}/blank.html`);
    const all = await waitFor(async () => {
      const s = await statements(lrs.url, admin);
      return s.some((x) => /\/(terminated|suspended)$/.test(x.verb.id)) ? s : null;
    }, 'end of the visit');
    const module = 'urn:kmh:course:demo-course/m00-pre';
    const scored = all.filter((s) => s.verb.id.endsWith('/scored') && s.object.id === module);
    assert.equal(scored.length, 1, 'one module score');
    assert.deepEqual(scored[0].result.score, { raw: 1, min: 0, max: 1, scaled: 1 });
    assert.ok(!all.some((s) => /\/(passed|failed)$/.test(s.verb.id)), 'no pass mark, no pass or fail');
    const o = await overview(lrs.url, admin, {});
    const m00 = o.funnel.find((m) => m.module === 'm00-pre');
    assert.equal(m00.mean_score, 1, 'the module score comes from the scored statement');
  } finally {
    await page.close();
    await web.stop();
    await lrs.stop();
    fs.rmSync(data, { recursive: true, force: true });
    fs.rmSync(pkg.out, { recursive: true, force: true });
  }
});
