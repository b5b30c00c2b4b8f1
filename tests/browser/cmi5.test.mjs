// cmi5: the demo course packaged by `kmh package --target cmi5`, imported
// by a test LMS (it reads the AU of cmi5.xml) and launched with cmi5 launch
// parameters. One `kmh serve` plays the LMS's LRS (the LMS writes
// LMS.LaunchData and the learner's preferences there), another the hub
// (the package's LRS); a tiny server on 127.0.0.1 plays the rest of the
// LMS: the one-time fetch URL (a fresh Basic credential of the LMS's LRS
// per launch, the cmi5 error form after that) and the returnURL page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  tmpdir, freePort, startLrs, startStatic, startBrowser, statements, adminCredential, buildPackage, kmh, repo,
} from './helpers.mjs';

const CMI5 = 'https://w3id.org/xapi/cmi5/context/categories/cmi5';
const MOVEON = 'https://w3id.org/xapi/cmi5/context/categories/moveon';
const SESSION = 'https://w3id.org/xapi/cmi5/context/extensions/sessionid';
const MASTERY = 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore';
const COHORT = 'urn:kmh:ext:cohort';
const COUNTRY = 'urn:kmh:ext:country';
const MODULE = 'urn:kmh:course:demo-course/m01-basics'; // the module's activity id
const ACTOR = { objectType: 'Agent', name: 'Awa', account: { homePage: 'https://lms.example.org', name: 'learner-77' } };

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

function basic(c) { return 'Basic ' + Buffer.from(`${c.key}:${c.secret}`).toString('base64'); }

/** What an LMS imports of an AU from cmi5.xml (cmi5 §13.1.4). */
function importAu(pkgDir, id) {
  const xml = fs.readFileSync(`${pkgDir}/cmi5.xml`, 'utf8');
  const au = [...xml.matchAll(/<au ([^>]*)>([\s\S]*?)<\/au>/g)]
    .map(([, attrs, body]) => ({
      ...Object.fromEntries([...attrs.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v])),
      url: /<url>([^<]*)<\/url>/.exec(body)[1],
    }))
    .find((a) => a.id === id);
  assert.ok(au, `cmi5.xml has the AU ${id}`);
  return au;
}

/** The LMS around its LRS: fetch URLs, the returnURL page, LMS.LaunchData. */
async function startLms(lrs, data, au) {
  const admin = await adminCredential(data);
  const tokens = new Map(); // fetch id -> { token, posts }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const cors = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' };
    const grant = tokens.get(url.searchParams.get('k'));
    if (url.pathname === '/fetch' && req.method === 'POST' && grant) {
      grant.posts += 1;
      const body = grant.posts === 1 ? { 'auth-token': grant.token }
        : { 'error-code': '1', 'error-text': 'The authorization token has already been returned.' };
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(body));
    }
    if (url.pathname === '/return.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end('<!DOCTYPE html><title>Back in the LMS</title><p>Back in the LMS</p>');
    }
    res.writeHead(404, cors);
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const headers = { Authorization: basic(admin), 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json' };
  const lms = {
    admin, tokens, base,
    async put(pathAndQuery, doc, extra = {}) {
      const r = await fetch(`${lrs.url}${pathAndQuery}`, { method: 'PUT', headers: { ...headers, ...extra }, body: JSON.stringify(doc) });
      assert.equal(r.status, 204, `PUT ${pathAndQuery}: ${await r.text()}`);
    },
    async get(pathAndQuery) {
      const r = await fetch(`${lrs.url}${pathAndQuery}`, { headers });
      return r.status === 200 ? r.json() : r.status;
    },
    /**
     * What an LMS does before a launch (cmi5 §10): a session, a one-time
     * fetch URL for a fresh credential of its LRS, LMS.LaunchData. Returns
     * the launch query string and the session id.
     */
    async launch({
      registration, activityId, launchMode = 'Normal', moveOn = au.moveOn,
      masteryScore = Number(au.masteryScore), returnURL = `${base}/return.html`, fetchId, onlyTheAu = false,
    }) {
      const session = crypto.randomUUID();
      const id = fetchId ?? crypto.randomUUID();
      if (!tokens.has(id)) {
        // An LMS may limit the token to the launch's activity (and its State).
        const limit = onlyTheAu ? ['--activity', activityId] : [];
        const out = JSON.parse(kmh(['creds', 'add', '--data', data, '--json', '--label', `cmi5 session ${session}`,
          '--scope', 'statements/write', '--scope', 'state', '--scope', 'profile', ...limit]));
        const cred = { key: out.key ?? out.info?.key, secret: out.secret };
        tokens.set(id, { token: Buffer.from(`${cred.key}:${cred.secret}`).toString('base64'), posts: 0 });
      }
      const launchData = {
        contextTemplate: {
          contextActivities: { grouping: [{ objectType: 'Activity', id: au.id }] },
          extensions: { [SESSION]: session, [COHORT]: '2026-GN1', [COUNTRY]: 'GN' },
        },
        launchMode, moveOn, masteryScore, returnURL,
      };
      // A test may have the LMS leave out what cmi5 lets it leave out (and
      // moveOn, which it must not, to see the runtime cope).
      for (const k of ['moveOn', 'returnURL']) if (launchData[k] === null) delete launchData[k];
      await this.put(`activities/state?${new URLSearchParams({
        activityId, agent: JSON.stringify(ACTOR), registration, stateId: 'LMS.LaunchData',
      })}`, launchData);
      const query = new URLSearchParams({
        endpoint: lrs.url, fetch: `${base}/fetch?k=${id}`, actor: JSON.stringify(ACTOR), registration, activityId,
      });
      return { url: `${au.url}?${query}`, session, fetchId: id };
    },
    async statements(registration) {
      return (await statements(lrs.url, admin)).filter((s) => s.context?.registration === registration);
    },
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
  return lms;
}

/** The demo course with as many quiz attempts as the learner likes. */
function unlimitedAttempts() {
  const dir = tmpdir('kmh-course-');
  fs.cpSync(path.join(repo, 'tests/fixtures/package/demo-course'), dir, { recursive: true });
  const quiz = path.join(dir, 'en/m01-basics/quiz/check.quiz');
  const text = fs.readFileSync(quiz, 'utf8');
  assert.match(text, /^attempts: 3/m);
  fs.writeFileSync(quiz, text.replace(/^attempts: 3/m, 'attempts: 0'));
  return dir;
}

async function setup({ source } = {}) {
  const hubData = tmpdir('kmh-hub-');
  const lmsData = tmpdir('kmh-lms-');
  const hub = await startLrs(await freePort(), hubData);
  const lrs = await startLrs(await freePort(), lmsData);
  const hubAdmin = await adminCredential(hubData);
  const pkg = buildPackage(hub.url, hubData, 'cmi5', source ? { source } : {});
  const au = importAu(pkg.dir, MODULE);
  assert.deepEqual([au.url, au.moveOn, au.masteryScore], ['m01-basics/launch.html', 'CompletedAndPassed', '0.75']);
  const lms = await startLms(lrs, lmsData, au);
  // The learner reads French first: the runtime's words follow (§11).
  await lms.put(`agents/profile?${new URLSearchParams({ agent: JSON.stringify(ACTOR), profileId: 'cmi5LearnerPreferences' })}`,
    { languagePreference: 'fr-CA,en-US', audioPreference: 'on' }, { 'If-None-Match': '*' });
  const web = await startStatic(pkg.dir);
  const page = await browser.context.newPage();
  return {
    hub, hubAdmin, lms, lrs, pkg, web, page,
    frame: () => page.frameLocator('#kmh-frame'),
    at: (file) => waitFor(() => (page.frame({ name: 'kmh-content' })?.url() ?? '').endsWith(file), file),
    // The frame shows the page before the player has bookmarked it.
    player: (file) => waitFor(() => page.evaluate(() => window.kmhPlayer?.data?.loc).catch(() => null)
      .then((loc) => loc === file), `the player at ${file}`),
    async teardown() {
      await page.close();
      await web.stop();
      await lms.stop();
      await lrs.stop();
      await hub.stop();
      for (const d of [hubData, lmsData, pkg.out, source]) if (d) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}

async function toQuiz(t, from = 'm01-basics/index.html') {
  const steps = ['m01-basics/index.html', 'pages/01-welcome.html', 'pages/02-charts.html', 'quiz/check.html'];
  await t.at(from);
  for (const next of steps.slice(steps.findIndex((s) => from.endsWith(s)) + 1)) {
    await t.frame().locator('a.kmh-next').click();
    await t.at(next);
  }
}

async function answer(t, { defineRight }) {
  const f = t.frame();
  await f.locator(defineRight ? '#q-define-c2' : '#q-define-c1').check();
  await f.locator('#q-levels-c1').check();
  await f.locator('#q-levels-c2').check();
  await f.locator('#q-continuous-false').check();
  await f.locator('#q-pairs-p1').selectOption('What is measured along the bottom');
  await f.locator('#q-pairs-p2').selectOption('What is measured up the side');
  await f.locator('#q-smart-answer').fill('Measurable');
  await f.locator('form.kmh-quiz button[type=submit]').click();
}

/** The hub's statements of a registration, once `until` holds for them. */
async function hubStatements(t, registration, until = (list) => list.some((s) => ['terminated', 'suspended'].includes(verb(s)))) {
  return waitFor(async () => {
    const list = (await statements(t.hub.url, t.hubAdmin)).filter((s) => s.context?.registration === registration);
    return until(list) ? list : null;
  }, 'the hub\'s statements');
}

/** The hub's analytics funnel row of the module. */
async function hubFunnel(t) {
  const r = await fetch(`${new URL(t.hub.url).origin}/analytics/overview?course=demo-course`, { headers: { Authorization: basic(t.hubAdmin) } });
  assert.equal(r.status, 200);
  return (await r.json()).funnel.find((m) => m.module === 'm01-basics');
}

/** What a Browse or Review session may give the hub: the session, no judgement. */
const UNJUDGED = ['initialized', 'resumed', 'experienced', 'suspended', 'terminated'];

/** The AU's own State in the LMS (404 when there is none). */
const auState = (lms, activityId, registration) => lms.get(`activities/state?${new URLSearchParams({
  activityId, agent: JSON.stringify(ACTOR), registration, stateId: 'urn:kmh:state:cmi5',
})}`);

const verb = (s) => s.verb.id.split('/').pop();
const categories = (s) => (s.context.contextActivities?.category ?? []).map((a) => a.id);
const byTime = (list) => [...list].sort((a, b) => a.timestamp.localeCompare(b.timestamp));

/** The cmi5 rules every statement of one AU session must keep. */
function assertSession(list, { session, activityId }) {
  const mine = byTime(list.filter((s) => s.context.extensions?.[SESSION] === session));
  assert.ok(mine.length >= 2, `the session has statements: ${mine.map(verb)}`);
  assert.equal(verb(mine[0]), 'initialized', 'initialized first');
  assert.equal(verb(mine[mine.length - 1]), 'terminated', 'terminated last');
  assert.equal(new Set(mine.map((s) => s.timestamp)).size, mine.length, 'timestamps order the session');
  for (const s of mine) {
    assert.deepEqual(s.actor.account, ACTOR.account, 'the cmi5 actor');
    assert.ok(s.context.contextActivities.grouping.some((a) => a.id === MODULE), `${verb(s)} keeps the template's publisher id`);
    assert.equal(s.context.extensions[COHORT], '2026-GN1', `${verb(s)} keeps the template's extensions`);
    const defined = ['initialized', 'completed', 'passed', 'failed', 'terminated'].includes(verb(s));
    assert.equal(categories(s).includes(CMI5), defined, `${verb(s)}: cmi5 category on cmi5 defined statements only`);
    assert.equal(categories(s).includes(MOVEON), ['completed', 'passed', 'failed'].includes(verb(s)), `${verb(s)}: moveon category`);
    if (defined) assert.equal(s.object.id, activityId, `${verb(s)} is about the launch's activityId`);
    else assert.ok(s.context.contextActivities.parent.some((a) => a.id === activityId), `${verb(s)} has the AU as parent`);
    if (!['passed', 'failed'].includes(verb(s))) assert.equal(s.result?.score, undefined, `${verb(s)} has no score`);
  }
  const terminated = mine[mine.length - 1];
  assert.match(terminated.result.duration, /^PT/, 'terminated has a duration');
  return mine;
}

test('cmi5 Normal launch: token once, LaunchData, resume in a second session, pass; the LMS and the hub get theirs', async () => {
  const t = await setup();
  try {
    const registration = crypto.randomUUID();
    const activityId = `https://lms.example.org/au/${crypto.randomUUID()}`;
    const { page, lms } = t;

    // Session 1: two pages, then the exit goes back to the LMS.
    const one = await lms.launch({ registration, activityId });
    await page.goto(`${t.web.url}/pkg/${one.url}`);
    await t.at('m01-basics/index.html');
    for (const next of ['pages/01-welcome.html', 'pages/02-charts.html']) {
      await t.frame().locator('a.kmh-next').click();
      await t.at(next);
    }
    await t.player('pages/02-charts.html');
    assert.equal(await page.locator('.kmh-exit').textContent(), 'Quitter', 'the learner\'s preferred language');
    await page.locator('.kmh-exit').click();
    await waitFor(() => page.url() === `${lms.base}/return.html`, 'the returnURL');
    // The exit waits for the LMS to have the session before leaving.
    const first = assertSession(await lms.statements(registration), { session: one.session, activityId });
    assert.deepEqual(first.map(verb), ['initialized', 'terminated'], 'nothing judged yet');
    assert.equal(lms.tokens.get(one.fetchId).posts, 1, 'one POST to the fetch URL');
    const again = await (await fetch(`${lms.base}/fetch?k=${one.fetchId}`, { method: 'POST' })).json();
    assert.equal(again['error-code'], '1', 'the fetch URL is one-time');

    // Session 2: resumes at the bookmark kept in the LMS, passes the quiz.
    // This LMS leaves moveOn out: the runtime tells the learner when the
    // course structure's (CompletedAndPassed, from kmh-runtime.json) is met.
    const two = await lms.launch({ registration, activityId, moveOn: null });
    await page.goto(`${t.web.url}/pkg/${two.url}`);
    await t.at('pages/02-charts.html');
    await waitFor(async () => /Bon retour/.test(await page.locator('.kmh-notice').first().textContent().catch(() => '')), 'the resume notice');
    await toQuiz(t, 'pages/02-charts.html');
    await answer(t, { defineRight: true });
    await waitFor(async () => /Note : 100 %/.test(await t.frame().locator('.kmh-result').textContent()), 'the score');
    await waitFor(async () => (await page.locator('.kmh-notice').allTextContents()).some((x) => /Ce module est validé/.test(x)),
      'moveOn (CompletedAndPassed) met');
    await page.locator('.kmh-exit').click();
    await waitFor(() => page.url() === `${lms.base}/return.html`, 'the returnURL');
    const all = await lms.statements(registration);
    const second = assertSession(all, { session: two.session, activityId });
    const verbs = second.map(verb);
    assert.deepEqual(verbs.filter((v) => v !== 'answered'), ['initialized', 'completed', 'passed', 'terminated']);
    assert.equal(verbs.filter((v) => v === 'answered').length, 6, 'the questions as cmi5 allowed statements');
    const passed = second.find((s) => verb(s) === 'passed');
    assert.deepEqual(passed.result.score, { scaled: 1, raw: 6, min: 0, max: 6 });
    assert.equal(passed.result.success, true);
    assert.equal(passed.result.completion, undefined, 'passed carries no completion');
    assert.match(passed.result.duration, /^PT/);
    assert.equal(passed.context.extensions[MASTERY], 0.75, 'the masteryScore it was judged by');
    const completed = second.find((s) => verb(s) === 'completed');
    assert.deepEqual([completed.result.completion, completed.result.success], [true, undefined]);
    assert.equal(all.filter((s) => ['completed', 'passed'].includes(verb(s))).length, 2, 'completed and passed once per registration');
    const own = await lms.get(`activities/state?${new URLSearchParams({ activityId, agent: JSON.stringify(ACTOR), registration, stateId: 'urn:kmh:state:cmi5' })}`);
    assert.deepEqual([own.location, own.completed, own.passed], ['quiz/check.html', true, true], 'the AU\'s State in the LMS');

    // The hub: its usual statements, for the cmi5 learner and registration,
    // with the cohort and country of the LMS's contextTemplate.
    const hub = await waitFor(async () => {
      const s = (await statements(t.hub.url, t.hubAdmin)).filter((x) => x.context?.registration === registration);
      return s.some((x) => verb(x) === 'terminated') && s.some((x) => verb(x) === 'suspended') ? s : null;
    }, 'the hub\'s statements');
    for (const s of hub) {
      assert.deepEqual(s.actor.account, ACTOR.account);
      assert.deepEqual([s.context.extensions[COHORT], s.context.extensions[COUNTRY]], ['2026-GN1', 'GN'], `hub ${verb(s)}`);
      assert.equal(s.context.extensions[SESSION], undefined, 'the hub gets no LMS session');
    }
    const hubPassed = hub.find((s) => verb(s) === 'passed');
    assert.equal(hubPassed.object.id, MODULE);
    assert.ok(hub.some((s) => verb(s) === 'experienced'), 'page views go to the hub');
  } finally {
    await t.teardown();
  }
});

test('cmi5: a score under the LMS\'s masteryScore gives failed, sent before terminated when the page closes', async () => {
  const t = await setup();
  try {
    const registration = crypto.randomUUID();
    const activityId = `https://lms.example.org/au/${crypto.randomUUID()}`;
    const { page, lms } = t;
    // The LMS's rules, not the course structure's: a higher mastery score
    // and completion alone to move on.
    const one = await lms.launch({ registration, activityId, masteryScore: 0.9, moveOn: 'Completed' });
    await page.goto(`${t.web.url}/pkg/${one.url}`);
    await toQuiz(t);
    await answer(t, { defineRight: false }); // 5 of 6: over the module's 0.75, under the LMS's 0.9
    await waitFor(async () => /83 %.*Pas encore réussi/.test(await t.frame().locator('.kmh-result').textContent()), 'the verdict');
    await waitFor(async () => (await page.locator('.kmh-notice').allTextContents()).some((x) => /Ce module est validé/.test(x)),
      'moveOn (Completed) met without a pass');
    await page.goto(`${t.web.url}/blank.html`); // closing the window, not the exit
    const list = await waitFor(async () => {
      const s = await lms.statements(registration);
      return s.some((x) => verb(x) === 'terminated') ? s : null;
    }, 'terminated');
    const session = assertSession(list, { session: one.session, activityId });
    assert.deepEqual(session.map(verb).filter((v) => v !== 'answered'), ['initialized', 'completed', 'failed', 'terminated']);
    const failed = session.find((s) => verb(s) === 'failed');
    assert.deepEqual([failed.result.score.scaled, failed.result.success], [0.8333, false]);
    assert.equal(failed.context.extensions[MASTERY], 0.9);
    assert.match(failed.result.duration, /^PT/);
  } finally {
    await t.teardown();
  }
});

test('cmi5 Browse launch: only initialized and terminated reach the LMS; a used fetch URL sends nothing', async () => {
  const t = await setup();
  try {
    const registration = crypto.randomUUID();
    const activityId = `https://lms.example.org/au/${crypto.randomUUID()}`;
    const { page, lms } = t;
    const one = await lms.launch({ registration, activityId, launchMode: 'Browse', returnURL: null });
    await page.goto(`${t.web.url}/pkg/${one.url}`);
    await toQuiz(t);
    await answer(t, { defineRight: true });
    await waitFor(async () => /100 %/.test(await t.frame().locator('.kmh-result').textContent()), 'the score');
    await page.locator('.kmh-exit').click();
    await waitFor(async () => /Vous avez quitté ce module/.test(await page.locator('.kmh-left').textContent().catch(() => '')), 'the last word');
    const session = assertSession(await lms.statements(registration), { session: one.session, activityId });
    assert.deepEqual(session.map(verb), ['initialized', 'terminated'], 'Browse: nothing judged, nothing answered');
    assert.equal(await auState(lms, activityId, registration), 404, 'Browse leaves the AU\'s State alone');

    // The hub follows the same rule: the pages the learner looked at, no
    // completion, pass, score or answer, so its analytics count no pass.
    const hub = await hubStatements(t, registration);
    assert.deepEqual([...new Set(hub.map(verb))].filter((v) => !UNJUDGED.includes(v)), [], 'the hub gets no judgement from Browse');
    assert.ok(hub.filter((s) => verb(s) === 'experienced').length >= 3, 'the hub sees the pages viewed');
    assert.ok(hub.every((s) => s.result?.score === undefined && s.result?.success === undefined && s.result?.completion === undefined));
    const row = await hubFunnel(t);
    assert.deepEqual([row.started, row.completed, row.passed, row.failed, row.mean_score], [1, 0, 0, 0, null],
      'the analytics: started, nothing completed, passed or scored');

    // The same fetch URL a second time: the LMS answers its error form.
    const two = await lms.launch({ registration, activityId, fetchId: one.fetchId });
    await page.goto(`${t.web.url}/pkg/${two.url}`);
    await waitFor(async () => /error 1/.test(await page.locator('.kmh-notice').first().textContent().catch(() => '')), 'the refusal notice');
    await t.at('m01-basics/index.html'); // the module still opens
    await page.goto(`${t.web.url}/blank.html`);
    await new Promise((r) => setTimeout(r, 500));
    const after = await lms.statements(registration);
    assert.ok(!after.some((s) => s.context.extensions?.[SESSION] === two.session), 'nothing for a refused launch');
    assert.equal(lms.tokens.get(one.fetchId).posts, 2, 'one POST per launch');
  } finally {
    await t.teardown();
  }
});

test('cmi5 Review launch: the quiz shows the last result and takes no attempt; neither the LMS nor the hub records anything judged', async () => {
  const t = await setup();
  try {
    const registration = crypto.randomUUID();
    const activityId = `https://lms.example.org/au/${crypto.randomUUID()}`;
    const { page, lms } = t;
    // Normal session: the learner passes (5 of 6 over the mastery score).
    const one = await lms.launch({ registration, activityId, returnURL: null });
    await page.goto(`${t.web.url}/pkg/${one.url}`);
    await toQuiz(t);
    await answer(t, { defineRight: false });
    await waitFor(async () => /83 %.*Réussi/.test(await t.frame().locator('.kmh-result').textContent()), 'the verdict');
    await page.locator('.kmh-exit').click();
    await waitFor(async () => /Vous avez quitté/.test(await page.locator('.kmh-left').textContent().catch(() => '')), 'the last word');
    const stateBefore = await auState(lms, activityId, registration);
    assert.equal(stateBefore.passed, true);
    const hubBefore = await hubStatements(t, registration, (l) => l.some((s) => verb(s) === 'passed') && l.some((s) => ['terminated', 'suspended'].includes(verb(s))));
    const rowBefore = await hubFunnel(t);
    assert.deepEqual([rowBefore.completed, rowBefore.passed], [1, 1]);

    // Review session: it opens at the quiz, which shows the kept result.
    const two = await lms.launch({ registration, activityId, launchMode: 'Review', returnURL: null });
    await page.goto(`${t.web.url}/pkg/${two.url}`);
    await t.at('quiz/check.html');
    await waitFor(async () => (await page.locator('.kmh-notice').allTextContents()).some((x) => /Vous revoyez ce module/.test(x)), 'the Review notice');
    const form = t.frame().locator('form.kmh-quiz');
    await waitFor(async () => (await form.getAttribute('data-kmh-review')) === 'true', 'the quiz in review');
    assert.match(await t.frame().locator('.kmh-result').textContent(), /Note : 83 %.*Réussi/);
    assert.equal(await form.locator('button[type=submit]').isHidden(), true, 'no submit in Review');
    assert.equal(await t.frame().locator('#q-define-c2').isDisabled(), true, 'answers cannot change in Review');
    await t.frame().locator('a.kmh-prev').click();
    await t.at('pages/02-charts.html');
    await page.locator('.kmh-exit').click();
    await waitFor(async () => /Vous avez quitté/.test(await page.locator('.kmh-left').textContent().catch(() => '')), 'the last word');

    const session = assertSession(await lms.statements(registration), { session: two.session, activityId });
    assert.deepEqual(session.map(verb), ['initialized', 'terminated'], 'Review: only initialized and terminated');
    assert.deepEqual(await auState(lms, activityId, registration), stateBefore, 'Review leaves the AU\'s State alone');
    const hub = await hubStatements(t, registration, (l) => l.length > hubBefore.length
      && l.filter((s) => ['terminated', 'suspended'].includes(verb(s))).length === 2);
    const seen = new Set(hubBefore.map((s) => s.id));
    const review = hub.filter((s) => !seen.has(s.id));
    assert.deepEqual([...new Set(review.map(verb))].filter((v) => !UNJUDGED.includes(v)), [], 'the hub gets no judgement from Review');
    assert.ok(review.some((s) => verb(s) === 'experienced'), 'the hub sees the pages reviewed');
    const row = await hubFunnel(t);
    assert.deepEqual([row.started, row.completed, row.passed, row.failed], [1, 1, 1, 0], 'the analytics are as before');
  } finally {
    await t.teardown();
  }
});

test('cmi5: a token limited to the AU refuses the answers; they are dropped once, the defined statements go on in order', async () => {
  const t = await setup();
  try {
    const registration = crypto.randomUUID();
    const activityId = `https://lms.example.org/au/${crypto.randomUUID()}`;
    const { page, lms } = t;
    const refused = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${t.lrs.url}statements`) && r.status() === 403) refused.push(r.url());
    });
    const one = await lms.launch({ registration, activityId, returnURL: null, onlyTheAu: true });
    await page.goto(`${t.web.url}/pkg/${one.url}`);
    await toQuiz(t);
    await answer(t, { defineRight: true });
    await waitFor(async () => /100 %/.test(await t.frame().locator('.kmh-result').textContent()), 'the score');
    // A second page view queues more for the LMS (its State) after the refusal.
    await t.frame().locator('a.kmh-prev').click();
    await t.at('pages/02-charts.html');
    await page.locator('.kmh-exit').click();
    await waitFor(async () => /Vous avez quitté/.test(await page.locator('.kmh-left').textContent().catch(() => '')), 'the last word');
    const session = assertSession(await lms.statements(registration), { session: one.session, activityId });
    assert.deepEqual(session.map(verb), ['initialized', 'completed', 'passed', 'terminated'], 'the defined statements, in order, no answers');
    assert.ok(refused.length >= 1 && refused.length <= 2, `the LMS refused the answers at most twice, not once each: ${refused.length}`);
    const left = await page.evaluate(() => ({ pending: window.kmhPlayer.cmi5.lms.pending(), refused: window.kmhPlayer.cmi5.lms.optionalRefused }));
    assert.deepEqual(left, { pending: 0, refused: true }, 'nothing waits for the LMS');
    const own = await auState(lms, activityId, registration);
    assert.deepEqual([own.completed, own.passed], [true, true], 'the AU\'s State is written (it is the AU\'s)');
    const hub = await hubStatements(t, registration);
    assert.equal(hub.filter((s) => verb(s) === 'answered').length, 6, 'the hub has the answers');
  } finally {
    await t.teardown();
  }
});

test('cmi5: closing the window with a long offline queue sends terminated and the other defined statements first; the hub gets the rest later', async () => {
  const t = await setup({ source: unlimitedAttempts() });
  try {
    const registration = crypto.randomUUID();
    const activityId = `https://lms.example.org/au/${crypto.randomUUID()}`;
    const { page, lms } = t;
    // A mastery score of 1 and unlimited attempts: each try is 6 answers.
    const one = await lms.launch({ registration, activityId, masteryScore: 1, returnURL: null });
    await page.goto(`${t.web.url}/pkg/${one.url}`);
    await t.player('index.html');
    await waitFor(async () => (await lms.statements(registration)).some((s) => verb(s) === 'initialized'), 'initialized');
    // Both LRSs go offline.
    const offline = (route) => route.abort('internetdisconnected');
    await page.route(`${t.lrs.url}**`, offline);
    await page.route(`${t.hub.url}**`, offline);
    await toQuiz(t);
    const tries = 5;
    for (let i = 1; i <= tries; i++) {
      await answer(t, { defineRight: false });
      await waitFor(async () => (await page.evaluate(() => window.kmhPlayer.data.quiz['quiz/check.html']?.n)) === i, `try ${i}`);
    }
    const waiting = await page.evaluate(() => [window.kmhPlayer.cmi5.lms.load(window.kmhPlayer.cmi5.lms.key, []).length, window.kmhPlayer.xapi.pending()]);
    assert.ok(waiting[0] > 25, `more than one request's worth waits for the LMS: ${waiting[0]}`);
    assert.ok(waiting[1] > 25, `and for the hub: ${waiting[1]}`);
    // Back online just as the window closes (not the exit: no time to drain).
    await page.unroute(`${t.lrs.url}**`, offline);
    await page.unroute(`${t.hub.url}**`, offline);
    await page.goto(`${t.web.url}/blank.html`);
    // Two last requests: the defined statements, then what fits of the answers.
    const list = await waitFor(async () => {
      const s = await lms.statements(registration);
      return s.some((x) => verb(x) === 'terminated') && s.some((x) => verb(x) === 'answered') ? s : null;
    }, 'terminated and answers');
    const session = assertSession(list, { session: one.session, activityId });
    assert.deepEqual(session.map(verb).filter((v) => v !== 'answered'), ['initialized', 'completed', 'failed', 'terminated'],
      'every defined statement of the session arrived');
    // So did the AU's State with the bookmark, which went to the quiz offline.
    const own = await waitFor(async () => {
      const doc = await auState(lms, activityId, registration);
      return doc?.location === 'quiz/check.html' ? doc : null;
    }, 'the bookmark in the AU\'s State');
    assert.equal(JSON.parse(own.suspend_data).quiz['quiz/check.html'].n, tries, 'with every try in the suspend data');

    // The hub's statements stay in the browser and go with the next launch.
    const expected = tries * 6;
    const two = await lms.launch({ registration, activityId, masteryScore: 1, returnURL: null });
    await page.goto(`${t.web.url}/pkg/${two.url}`);
    const hub = await hubStatements(t, registration, (l) => l.filter((s) => verb(s) === 'answered').length === expected
      && l.some((s) => verb(s) === 'suspended'));
    assert.equal(hub.filter((s) => verb(s) === 'answered').length, expected, 'every answer reached the hub');
    assert.ok(hub.some((s) => verb(s) === 'failed'), 'the hub has the verdict');
    await page.goto(`${t.web.url}/blank.html`);
  } finally {
    await t.teardown();
  }
});
