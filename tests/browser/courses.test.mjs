// The courses `kmh serve --courses` publishes: a learner opens /courses/,
// picks the French course, says who they are, launches a module (standalone,
// with the course credential) and answers its quiz; the statements are in
// the LRS and the analytics count the learner in their cohort and country.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repo, tmpdir, freePort, startLrs, startBrowser, statements, adminCredential } from './helpers.mjs';

let browser;
before(async () => { browser = await startBrowser(); });
after(async () => { await browser?.stop(); });

async function waitFor(fn, what, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

test('a learner launches a French module from /courses/ and their answers reach the LRS and /analytics', async () => {
  const data = tmpdir('kmh-lrs-');
  const lrs = await startLrs(await freePort(), data, { extra: ['--courses', path.join(repo, 'packages')] });
  const base = lrs.url.replace(/\/xapi\/$/, '');
  const admin = await adminCredential(data);
  const page = await browser.context.newPage();
  try {
    await page.goto(`${base}/courses/`);
    await page.getByRole('link', { name: 'Suivi et évaluation du retour et de la réintégration' }).click();
    await page.waitForURL(`${base}/courses/reintegration-me/fr/`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');

    // A name without an e-mail address is not enough.
    await page.fill('#kmh-name', 'Aïssatou Diallo');
    await page.click('#module-s01-introduction a.kmh-start');
    await waitFor(async () => page.locator('#kmh-problem').isVisible(), 'the problem shown');
    assert.match(await page.locator('#kmh-problem').textContent(), /adresse e-mail/);
    assert.equal(new URL(page.url()).pathname, '/courses/reintegration-me/fr/', 'no launch yet');

    await page.fill('#kmh-email', 'aissatou@example.org');
    await page.fill('#kmh-cohort', '2026-SN1');
    await page.fill('#kmh-country', 'sn');
    await page.click('#module-s01-introduction a.kmh-start');
    await page.waitForURL(/\/courses\/reintegration-me\/fr\/s01-introduction\/launch\.html\?/);
    const launch = new URL(page.url()).searchParams;
    assert.equal(launch.get('endpoint'), `${base}/xapi/`);
    assert.deepEqual(JSON.parse(launch.get('actor')), { objectType: 'Agent', name: 'Aïssatou Diallo', mbox: 'mailto:aissatou@example.org' });

    const frame = page.frameLocator('#kmh-frame');
    const at = (file) => waitFor(() => (page.frame({ name: 'kmh-content' })?.url() ?? '').endsWith(file), file);
    await at('s01-introduction/index.html');
    for (const next of ['pages/01-welcome.html', 'pages/02-how-the-course-works.html', 'pages/03-avrr-and-para.html',
      'pages/04-pre-work.html', 'pages/05-summary.html', 'quiz/knowledge-check.html']) {
      await frame.locator('a.kmh-next').click();
      await at(next);
    }
    for (const c of ['c1', 'c2', 'c3']) await frame.locator(`#q-course-objectives-${c}`).check();
    for (const n of [1, 2, 3, 4, 5]) await frame.locator(`#q-avrr-stage-order-p${n}`).selectOption(`Étape ${n}`);
    await frame.locator('#q-para-scope-true').check();
    await frame.locator('#q-pre-post-same-c2').check();
    await frame.locator('#q-reintegration-stage-focus-c3').check();
    await frame.locator('form.kmh-quiz button[type=submit]').click();
    await waitFor(async () => /100/.test(await frame.locator('.kmh-result').textContent()), 'the score');
    await page.goto(`${base}/courses/reintegration-me/fr/`);

    const mine = await waitFor(async () => {
      const s = (await statements(lrs.url, admin)).filter((x) => x.actor.mbox === 'mailto:aissatou@example.org');
      return s.some((x) => x.verb.id.endsWith('/terminated') || x.verb.id.endsWith('/suspended')) ? s : null;
    }, 'the visit in the LRS');
    const answered = mine.filter((s) => s.verb.id === 'http://adlnet.gov/expapi/verbs/answered');
    assert.equal(answered.length, 5, 'one answer per question');
    const scope = answered.find((s) => s.object.id.endsWith('/para-scope'));
    assert.ok(scope.object.id.startsWith('urn:kmh:course:reintegration-me/s01-introduction/'), scope.object.id);
    assert.equal(scope.result.success, true);
    for (const s of mine) {
      assert.equal(s.context.extensions['urn:kmh:ext:cohort'], '2026-SN1');
      assert.equal(s.context.extensions['urn:kmh:ext:country'], 'SN');
    }

    const auth = 'Basic ' + Buffer.from(`${admin.key}:${admin.secret}`).toString('base64');
    const overview = await waitFor(async () => {
      const r = await fetch(`${base}/analytics/overview?course=reintegration-me&country=SN`, { headers: { Authorization: auth } });
      assert.equal(r.status, 200);
      const o = await r.json();
      return o.summary.enrolled === 1 ? o : null;
    }, 'the learner in /analytics');
    assert.deepEqual(overview.options.cohorts, [{ value: '2026-SN1', learners: 1 }]);
    const s01 = overview.funnel.find((m) => m.module === 's01-introduction');
    assert.deepEqual([s01.started, s01.passed], [1, 1]);

    // Anonymous: a generated account, the same on the next launch.
    await page.check('#kmh-anonymous');
    await page.click('#module-s00-pre-assessment a.kmh-start');
    await page.waitForURL(/s00-pre-assessment\/launch\.html\?/);
    const first = JSON.parse(new URL(page.url()).searchParams.get('actor'));
    assert.equal(first.mbox, undefined);
    assert.equal(first.account.homePage, base);
    assert.match(first.account.name, /^anonymous-/);
    await page.goto(`${base}/courses/reintegration-me/fr/`);
    assert.equal(await page.locator('#kmh-anonymous').isChecked(), true, 'the choice is remembered');
    await page.click('#module-s00-pre-assessment a.kmh-start');
    await page.waitForURL(/s00-pre-assessment\/launch\.html\?/);
    assert.deepEqual(JSON.parse(new URL(page.url()).searchParams.get('actor')), first);
  } finally {
    await page.close();
    await lrs.stop();
    fs.rmSync(data, { recursive: true, force: true });
  }
});
