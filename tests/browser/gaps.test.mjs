// The runtime beyond the LMS happy path: standalone (Tin Can) launch with
// xAPI only, the player in French, `shuffle: yes` quizzes, and an LRS that
// refuses the package's credential (revoked, or 403).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  repo, kmh, tmpdir, freePort, startLrs, startStatic, startBrowser, statements, adminCredential, buildPackage,
} from './helpers.mjs';

let browser;
before(async () => { browser = await startBrowser(); });
after(async () => { await browser?.stop(); });

const MODULE = 'urn:kmh:course:demo-course/m01-basics';

async function waitFor(fn, what, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function setup(target, opts) {
  const data = tmpdir('kmh-lrs-');
  const port = await freePort();
  const lrs = await startLrs(port, data);
  const admin = await adminCredential(data);
  const pkg = buildPackage(lrs.url, data, target, opts);
  const config = JSON.parse(fs.readFileSync(path.join(pkg.dir, 'kmh-runtime.json'), 'utf8'));
  const web = await startStatic(pkg.dir);
  const page = await browser.context.newPage();
  return {
    data, admin, pkg, web, page, lrs, config,
    async teardown() {
      await page.close();
      await web.stop();
      await lrs.stop();
      fs.rmSync(data, { recursive: true, force: true });
      fs.rmSync(pkg.out, { recursive: true, force: true });
    },
  };
}

// `frames`: how to reach the player's content frame (host page or not).
function player(page, hosted) {
  const frame = () => (hosted ? page.frameLocator('#sco').frameLocator('#kmh-frame') : page.frameLocator('#kmh-frame'));
  const url = () => { const f = page.frame({ name: 'kmh-content' }); return f ? f.url() : ''; };
  const goTo = (file) => waitFor(() => url().endsWith(file), `content page ${file} (at ${url()})`);
  return {
    frame, url, goTo,
    async next(file) { await frame().locator('a.kmh-next').click(); await goTo(file); },
    async toQuiz() {
      await goTo('m01-basics/index.html');
      await this.next('pages/01-welcome.html');
      await this.next('pages/02-charts.html');
      await this.next('quiz/check.html');
    },
    async answer({ levelsRight }) {
      const f = frame();
      await f.locator('#q-define-c2').check();
      await f.locator('#q-levels-c1').check();
      if (levelsRight) await f.locator('#q-levels-c2').check();
      await f.locator('#q-continuous-false').check();
      await f.locator('#q-pairs-p1').selectOption('What is measured along the bottom');
      await f.locator('#q-pairs-p2').selectOption('What is measured up the side');
      await f.locator('#q-smart-answer').fill(' Measurable ');
      await f.locator('#q-comments-answer').fill('More charts, please');
      await f.locator('form.kmh-quiz button[type=submit]').click();
    },
  };
}

function launchUrl(t, { actor, registration }) {
  const auth = 'Basic ' + Buffer.from(`${t.config.lrs.key}:${t.config.lrs.secret}`).toString('base64');
  const q = new URLSearchParams({ endpoint: t.lrs.url, auth, actor: JSON.stringify(actor), registration });
  return `${t.web.url}/pkg/m01-basics/launch.html?${q}`;
}

async function getState(t, actor, stateId) {
  const auth = 'Basic ' + Buffer.from(`${t.admin.key}:${t.admin.secret}`).toString('base64');
  const q = new URLSearchParams({ activityId: MODULE, agent: JSON.stringify(actor), stateId });
  const r = await fetch(`${t.lrs.url}activities/state?${q}`, { headers: { Authorization: auth, 'X-Experience-API-Version': '1.0.3' } });
  return r.ok ? r.json() : null;
}

const ACTOR = { objectType: 'Agent', name: 'Ada Lovelace', mbox: 'mailto:ada@example.org' };
const REG = '3f1c2a55-8f0e-4d8b-9a61-5b2f0f9c7e10';

test('a pseudonymising package credential: the content resumes from the LRS State; the LRS keeps only the pseudonym', async () => {
  const t = await setup('scorm2004', { extra: ['--lrs-pseudonymise'] });
  try {
    const { page } = t;
    const p = player(page, false);
    const url = launchUrl(t, { actor: ACTOR, registration: REG });
    await page.goto(url);
    await p.goTo('m01-basics/index.html');
    await p.next('pages/01-welcome.html');
    await p.next('pages/02-charts.html');
    // The package's own credential reads its State by the learner's real identifier.
    const own = { ...t, admin: { key: t.config.lrs.key, secret: t.config.lrs.secret } };
    await waitFor(async () => (await getState(own, ACTOR, 'urn:kmh:state:bookmark'))?.location === 'pages/02-charts.html', 'the bookmark in the LRS State');
    await page.goto(`${t.web.url}/blank.html`); // the learner leaves
    await waitFor(async () => (await statements(t.lrs.url, t.admin)).some((s) => s.verb.id.endsWith('/suspended')), 'suspended');
    await page.evaluate(() => localStorage.clear());

    await page.goto(url);
    await p.goTo('pages/02-charts.html');
    assert.match(await page.locator('.kmh-notice').textContent(), /Welcome back/, 'resumed from the LRS State');
    await page.goto(`${t.web.url}/blank.html`);

    const all = await waitFor(async () => {
      const s = await statements(t.lrs.url, t.admin);
      return s.filter((x) => x.verb.id.endsWith('/suspended')).length >= 2 ? s : null;
    }, 'the second suspended');
    const pseudonym = all[0].actor;
    assert.equal(pseudonym.account.homePage, 'urn:kmh:pseudonym');
    for (const s of all) {
      assert.deepEqual(s.actor, pseudonym, 'one learner, one pseudonym');
      const text = JSON.stringify(s);
      assert.ok(!text.includes('ada@example.org') && !text.includes('Lovelace'), text);
    }
    // Credentials that keep identifiers find the State under the pseudonym only.
    assert.equal(await getState(t, ACTOR, 'urn:kmh:state:bookmark'), null);
    assert.equal((await getState(t, pseudonym, 'urn:kmh:state:bookmark'))?.location, 'pages/02-charts.html');
  } finally {
    await t.teardown();
  }
});

test('standalone Tin Can launch: xAPI only, with the launch actor and registration; resumes from the LRS State', async () => {
  const t = await setup('scorm2004');
  try {
    const { page } = t;
    const p = player(page, false);
    const url = launchUrl(t, { actor: ACTOR, registration: REG });
    await page.goto(url);
    await p.goTo('m01-basics/index.html');
    const info = await page.evaluate(() => ({
      api: !!(window.API || window.API_1484_11 || window.parent.API || window.parent.API_1484_11),
      scorm: window.kmhPlayer.scorm, standalone: window.kmhPlayer.standalone, notice: document.querySelector('.kmh-notice')?.textContent ?? null,
    }));
    assert.deepEqual(info, { api: false, scorm: null, standalone: true, notice: null }, 'no LMS, no "not recorded" notice');
    await p.next('pages/01-welcome.html');
    await p.next('pages/02-charts.html');
    await waitFor(async () => (await getState(t, ACTOR, 'urn:kmh:state:bookmark'))?.location === 'pages/02-charts.html', 'the bookmark in the LRS State');
    await page.goto(`${t.web.url}/blank.html`); // the learner leaves
    await waitFor(async () => (await statements(t.lrs.url, t.admin)).some((s) => s.verb.id.endsWith('/suspended')), 'suspended');
    // Nothing left in this browser: the resume can only come from the LRS.
    await page.evaluate(() => localStorage.clear());

    await page.goto(url);
    await p.goTo('pages/02-charts.html');
    assert.match(await page.locator('.kmh-notice').textContent(), /Welcome back/);
    await p.next('quiz/check.html');
    await p.answer({ levelsRight: true });
    await waitFor(async () => /100 %.*Passed/.test(await p.frame().locator('.kmh-result').textContent()), 'passing score');
    await page.goto(`${t.web.url}/blank.html`);

    const all = await waitFor(async () => {
      const s = await statements(t.lrs.url, t.admin);
      return s.some((x) => x.verb.id.endsWith('/terminated')) ? s : null;
    }, 'terminated');
    const count = (verb) => all.filter((s) => s.verb.id.endsWith(`/${verb}`)).length;
    assert.deepEqual(['initialized', 'suspended', 'resumed', 'answered', 'passed', 'terminated'].map((v) => [v, count(v)]),
      [['initialized', 1], ['suspended', 1], ['resumed', 1], ['answered', 6], ['passed', 1], ['terminated', 1]]);
    for (const s of all) {
      assert.equal(s.actor.mbox, ACTOR.mbox, 'the launch actor');
      assert.equal(s.actor.name, ACTOR.name);
      assert.equal(s.context.registration, REG, 'the launch registration');
    }
    const attempt = await getState(t, ACTOR, 'https://w3id.org/xapi/scorm/attempt-state');
    assert.equal(attempt, null, 'the attempt state is kept per registration, not without one');
  } finally {
    await t.teardown();
  }
});

test('French module: the player speaks French', async () => {
  const t = await setup('scorm2004', { lang: 'fr' });
  try {
    const { page, web } = t;
    // Opened outside any LMS, without launch parameters.
    await page.goto(`${web.url}/pkg/m01-basics/launch.html`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    assert.match(await page.locator('.kmh-notice').textContent(), /Votre progression n’est pas enregistrée/);

    const p = player(page, true);
    await page.goto(`${web.url}/host.html?v=2004&learner=learner-fr&sco=${encodeURIComponent('/pkg/m01-basics/launch.html')}`);
    await p.toQuiz();
    await p.answer({ levelsRight: false });
    const result = p.frame().locator('.kmh-result');
    await waitFor(async () => /67 %/.test(await result.textContent()), 'first score');
    assert.match(await result.textContent(), /^Note : 67 % · Pas encore réussi · Tentatives restantes : 2$/);
    assert.equal(await p.frame().locator('#q-levels .kmh-feedback').textContent(), 'Mauvaise réponse.');
    await p.frame().locator('#q-smart-answer').fill('');
    await p.frame().locator('form.kmh-quiz button[type=submit]').click();
    await waitFor(async () => /Veuillez répondre à toutes les questions/.test(await result.textContent()), 'answer-all message');
  } finally {
    await t.teardown();
  }
});

test('shuffle: yes: choices in a seeded order (same for the same registration), same choices, same scoring', async () => {
  const src = tmpdir('kmh-src-');
  fs.cpSync(path.join(repo, 'tests/fixtures/package/demo-course'), src, { recursive: true });
  const quiz = path.join(src, 'en/m01-basics/quiz/check.quiz');
  fs.writeFileSync(quiz, fs.readFileSync(quiz, 'utf8').replace(/^shuffle: no/m, 'shuffle: yes'));
  const t = await setup('scorm2004', { source: src });
  try {
    const { page } = t;
    const p = player(page, false);
    const order = () => p.frame().locator('form.kmh-quiz').evaluate((form) => ({
      shuffled: form.dataset.kmhShuffled,
      define: [...form.querySelectorAll('#q-define input')].map((i) => i.value),
      levels: [...form.querySelectorAll('#q-levels input')].map((i) => i.value),
      pairs: [...form.querySelectorAll('#q-pairs-p1 option')].map((o) => o.value),
    }));
    const source = {
      shuffled: 'true',
      define: ['c1', 'c2'], levels: ['c1', 'c2', 'c3'],
      pairs: ['', 'What is measured along the bottom', 'What is measured up the side'],
    };
    const sorted = (o) => ({ ...o, define: [...o.define].sort(), levels: [...o.levels].sort(), pairs: [o.pairs[0], ...o.pairs.slice(1).sort()] });
    const url = launchUrl(t, { actor: ACTOR, registration: REG });
    await page.goto(url);
    await p.toQuiz();
    const first = await order();
    assert.deepEqual(sorted(first), source, 'the same choices');
    assert.notDeepEqual(first, source, `the order differs from the source for registration ${REG}`);
    await page.reload(); // resumes on the quiz
    await p.goTo('quiz/check.html');
    assert.deepEqual(await order(), first, 'same registration, same order');

    // Scoring goes by choice id, whatever the order.
    await p.answer({ levelsRight: false });
    const result = p.frame().locator('.kmh-result');
    await waitFor(async () => /67 %/.test(await result.textContent()), 'first score');
    await p.answer({ levelsRight: true });
    await waitFor(async () => /100 %.*Passed/.test(await result.textContent()), 'passing score');
    const all = await waitFor(async () => {
      const s = await statements(t.lrs.url, t.admin);
      return s.some((x) => x.verb.id.endsWith('/passed')) ? s : null;
    }, 'passed');
    const levels = all.filter((s) => s.verb.id.endsWith('/answered') && s.object.id.endsWith('/levels'));
    assert.deepEqual(levels.map((s) => [s.result.response, s.result.success]), [['c1', false], ['c1[,]c2', true]]);
    assert.deepEqual(levels[0].object.definition.correctResponsesPattern, ['c1[,]c2']);
    assert.equal(all.find((s) => s.verb.id.endsWith('/passed')).result.score.scaled, 1);
  } finally {
    await t.teardown();
    fs.rmSync(src, { recursive: true, force: true });
  }
});

// The credential refused: revoked with `kmh creds revoke` while the learner
// is in the course (the LRS answers 401), or refused with 403 (simulated
// for every LRS request, as for an origin the credential does not allow).
for (const [how, v, target] of [['revoked', '12', 'scorm12'], ['403', '2004', 'scorm2004']]) {
  test(`LRS refuses the package credential (${how}): no retry loop, SCORM tracking intact, statements kept`, async () => {
    const t = await setup(target);
    try {
      const { page, web } = t;
      const requests = [];
      page.on('request', (r) => { if (r.url().startsWith(t.lrs.url)) requests.push(`${r.method()} ${r.url().slice(t.lrs.url.length).split('?')[0]}`); });
      const statuses = [];
      let refusedAt = null; // requests made when the first refusal arrived
      page.on('response', (r) => {
        if (!r.url().startsWith(t.lrs.url)) return;
        statuses.push(r.status());
        if ((r.status() === 401 || r.status() === 403) && refusedAt === null) refusedAt = requests.length;
      });
      const p = player(page, true);
      const host = `${web.url}/host.html?v=${v}&learner=learner-1&sco=${encodeURIComponent('/pkg/m01-basics/launch.html')}`;
      if (how === '403') {
        await page.route(`${t.lrs.url}**`, (route) => route.fulfill({
          status: 403, contentType: 'application/json', headers: { 'Access-Control-Allow-Origin': '*' },
          body: JSON.stringify({ error: 'credential may not be used from this origin' }),
        }));
      }
      await page.goto(host);
      await p.goTo('m01-basics/index.html');
      await p.next('pages/01-welcome.html');
      if (how === 'revoked') {
        await waitFor(async () => (await statements(t.lrs.url, t.admin)).length >= 2, 'first statements');
        kmh(['creds', 'revoke', t.config.lrs.key, '--data', t.data]);
      }
      const before = (await statements(t.lrs.url, t.admin)).length;
      await p.next('pages/02-charts.html');
      await p.next('quiz/check.html');
      await p.answer({ levelsRight: true });
      await waitFor(async () => /100 %.*Passed/.test(await p.frame().locator('.kmh-result').textContent()), 'passing score');
      await sleep(2500);
      const settled = requests.length;
      await sleep(4000); // past the runtime's retry delays (1 s, 2 s, …)
      assert.equal(requests.length, settled, `no requests once refused: ${requests.slice(settled).join(', ')}`);
      assert.ok(statuses.some((s) => s === (how === '403' ? 403 : 401)), `the LRS refused: ${statuses.join(',')}`);
      // After the first refusal: the in-flight requests and one probe, then nothing.
      assert.ok(settled - refusedAt <= 4, `a handful of requests after the refusal, not a loop: ${requests.slice(refusedAt).join(', ')}`);
      assert.equal((await statements(t.lrs.url, t.admin)).length, before, 'the LRS stored nothing more');

      await page.goto(`${web.url}/blank.html`);
      const h = await page.evaluate((v) => ({
        cmi: JSON.parse(localStorage.getItem(`host-cmi-${v}-learner-1`)),
        log: JSON.parse(localStorage.getItem(`host-log-${v}-learner-1`)),
        queue: Object.keys(localStorage).filter((k) => k.startsWith('kmh-xapi-queue')).flatMap((k) => JSON.parse(localStorage.getItem(k))),
      }), v);
      const names = h.log[0].calls.map((c) => c[0]);
      if (v === '12') {
        assert.equal(h.cmi.core.lesson_status, 'passed');
        assert.equal(Number(h.cmi.core.score.raw), 100);
        assert.equal(names[names.length - 1], 'LMSFinish');
      } else {
        assert.equal(h.cmi.success_status, 'passed');
        assert.equal(h.cmi.completion_status, 'completed');
        assert.equal(Number(h.cmi.score.scaled), 1);
        assert.equal(names[names.length - 1], 'Terminate');
      }
      assert.equal(Object.values(h.cmi.interactions).length, 6, 'every interaction reached the LMS');
      for (const c of h.log[0].calls) if (/SetValue/.test(c[0])) assert.equal(c[2], 'true', `${c[0]}(${c[1].join(', ')})`);
      // Not dropped: what the LRS refused waits in the queue.
      const verbs = h.queue.map((s) => s.verb.id.split('/').pop());
      for (const verb of ['answered', 'scored', 'completed', 'passed']) assert.ok(verbs.includes(verb), `${verb} kept in the queue: ${verbs}`);
    } finally {
      await t.teardown();
    }
  });
}
