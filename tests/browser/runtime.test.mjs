// A learner takes the demo course's module m01-basics, packaged by
// `kmh package --lrs`, in a test LMS (scorm-again) in headless Chromium,
// with `kmh serve` as the LRS: reads, leaves, comes back, resumes, fails
// then passes the quiz. Asserts what the LMS received and what the LRS stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  tmpdir, freePort, startLrs, startStatic, startBrowser, statements, adminCredential, buildPackage,
} from './helpers.mjs';

const SCO = 'pkg/m01-basics/launch.html';
let browser;
before(async () => { browser = await startBrowser(); });
after(async () => { await browser?.stop(); });

function contentFrame(page) { return page.frameLocator('#sco').frameLocator('#kmh-frame'); }
function contentUrl(page) { const f = page.frame({ name: 'kmh-content' }); return f ? f.url() : ''; }

async function waitFor(fn, what, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function goTo(page, pageFile) {
  await waitFor(() => contentUrl(page).endsWith(pageFile), `content page ${pageFile} (at ${contentUrl(page)})`);
}

async function next(page, pageFile) {
  await contentFrame(page).locator('a.kmh-next').click();
  await goTo(page, pageFile);
  // The frame's URL changes before the player has seen the new page (and
  // bookmarked it): wait for that too, or leaving at once races it.
  const player = () => page.frames().find((f) => f.url().includes('/launch.html'));
  await waitFor(async () => (await player()?.evaluate(() => window.kmhPlayer?.data?.loc)) === pageFile,
    `the player at ${pageFile}`);
}

async function answerQuiz(page, { levelsRight }) {
  const f = contentFrame(page);
  await f.locator('#q-define-c2').check();
  await f.locator('#q-levels-c1').check();
  if (levelsRight) await f.locator('#q-levels-c2').check();
  await f.locator('#q-continuous-false').check();
  await f.locator('#q-pairs-p1').selectOption('What is measured along the bottom');
  await f.locator('#q-pairs-p2').selectOption('What is measured up the side');
  await f.locator('#q-smart-answer').fill(' Measurable ');
  await f.locator('#q-comments-answer').fill('More charts, please');
  await f.locator('form.kmh-quiz button[type=submit]').click();
}

async function hostData(page, base, v) {
  await page.goto(`${base}/blank.html`);
  return page.evaluate((v) => ({
    cmi: JSON.parse(localStorage.getItem(`host-cmi-${v}-learner-1`)),
    log: JSON.parse(localStorage.getItem(`host-log-${v}-learner-1`)),
    queue: Object.keys(localStorage).filter((k) => k.startsWith('kmh-xapi-queue'))
      .flatMap((k) => JSON.parse(localStorage.getItem(k))),
  }), v);
}

function assertApiDiscipline(log, finish) {
  for (const session of log) {
    const names = session.calls.map((c) => c[0]);
    const init = names.filter((n) => /Initialize/.test(n)).length;
    const end = names.indexOf(finish);
    assert.equal(init, 1, 'one Initialize per visit');
    assert.ok(end >= 0, `${finish} is called when the learner leaves`);
    assert.equal(end, names.length - 1, `no API call after ${finish}: ${names.slice(end).join(', ')}`);
    for (const c of session.calls) {
      if (/SetValue/.test(c[0])) assert.equal(c[2], 'true', `${c[0]}(${c[1].join(', ')}) failed with error ${c[3]}`);
    }
  }
}

function values(x) { return Array.isArray(x) ? x : Object.values(x || {}); }

async function setup(target) {
  const data = tmpdir('kmh-lrs-');
  const port = await freePort();
  let lrs = await startLrs(port, data);
  const admin = await adminCredential(data);
  const pkg = buildPackage(lrs.url, data, target);
  fs.writeFileSync(`${pkg.dir}/../blank.html`, '');
  const web = await startStatic(pkg.dir);
  const page = await browser.context.newPage();
  return {
    data, port, admin, pkg, web, page,
    get lrs() { return lrs; },
    async restartLrs() { lrs = await startLrs(port, data); },
    async teardown() {
      await page.close();
      await web.stop();
      await lrs.stop();
      fs.rmSync(data, { recursive: true, force: true });
      fs.rmSync(pkg.out, { recursive: true, force: true });
    },
  };
}

for (const [v, target, finish] of [['2004', 'scorm2004', 'Terminate'], ['12', 'scorm12', 'LMSFinish']]) {
  test(`SCORM ${v}: read, leave, resume, fail then pass; LMS and LRS agree`, async () => {
    const t = await setup(target);
    try {
      const { page, web } = t;
      const host = `${web.url}/host.html?v=${v}&learner=learner-1&sco=${encodeURIComponent('/' + SCO)}`;
      await page.goto(host);
      await goTo(page, 'm01-basics/index.html');
      await next(page, 'pages/01-welcome.html');
      await next(page, 'pages/02-charts.html');
      let h = await hostData(page, web.url, v); // leaving the host = closing the course
      const cmi1 = h.cmi;
      if (v === '2004') {
        assert.equal(cmi1.location, 'pages/02-charts.html');
        assert.equal(cmi1.exit, 'suspend');
        assert.equal(cmi1.completion_status, 'incomplete');
        assert.match(cmi1.session_time, /^PT/);
      } else {
        assert.equal(cmi1.core.lesson_location, 'pages/02-charts.html');
        assert.equal(cmi1.core.exit, 'suspend');
        assert.equal(cmi1.core.lesson_status, 'incomplete');
        assert.match(cmi1.core.session_time, /^\d{2,4}:\d\d:\d\d/);
      }
      const reg = JSON.parse(v === '2004' ? cmi1.suspend_data : cmi1.suspend_data).reg;

      // Back again: the runtime resumes on the bookmarked page.
      await page.goto(host);
      await goTo(page, 'pages/02-charts.html');
      await next(page, 'quiz/check.html');
      await answerQuiz(page, { levelsRight: false });
      const result = contentFrame(page).locator('.kmh-result');
      await waitFor(async () => /67 %/.test(await result.textContent()), 'first score');
      assert.match(await result.textContent(), /Not passed yet.*Attempts left: 2/);
      assert.match(await contentFrame(page).locator('#q-define .kmh-feedback').textContent(), /Correct\. Yes: routine/);
      await answerQuiz(page, { levelsRight: true });
      await waitFor(async () => /100 %.*Passed/.test(await result.textContent()), 'passing score');
      // The learner lingers until the runtime has sent what is waiting (leaving
      // mid-send is the keepalive/re-send path, covered by the outage test).
      await waitFor(() => page.frames().find((f) => f.url().split('?')[0].endsWith('/launch.html'))?.evaluate(() => window.kmhPlayer.xapi.pending() === 0), 'the queue to drain');
      h = await hostData(page, web.url, v);
      const cmi = h.cmi;
      assertApiDiscipline(h.log, finish);
      assert.equal(h.log.length, 2);

      let interactions;
      if (v === '2004') {
        assert.equal(cmi.completion_status, 'completed');
        assert.equal(cmi.success_status, 'passed');
        assert.equal(Number(cmi.score.scaled), 1);
        assert.equal(Number(cmi.score.raw), 6);
        assert.equal(Number(cmi.score.min), 0);
        assert.equal(Number(cmi.score.max), 6);
        assert.equal(cmi.exit, 'normal');
        assert.equal(cmi.location, 'quiz/check.html');
        interactions = values(cmi.interactions);
        const objectives = values(cmi.objectives);
        const define = objectives.find((o) => o.id === 'define-monitoring');
        assert.equal(define.success_status, 'passed');
        const levels = interactions.filter((i) => i.id.endsWith('/quiz/check/levels'));
        assert.deepEqual(levels.map((i) => [i.type, i.learner_response, i.result]),
          [['choice', 'c1', 'incorrect'], ['choice', 'c1[,]c2', 'correct']]);
        assert.equal(values(levels[1].correct_responses)[0].pattern, 'c1[,]c2');
        assert.equal(Number(levels[1].weighting), 2);
        assert.match(levels[1].latency, /^PT/);
        const comments = interactions.find((i) => i.id.endsWith('/comments'));
        assert.deepEqual([comments.type, comments.result, comments.learner_response], ['long-fill-in', 'neutral', 'More charts, please']);
      } else {
        assert.equal(cmi.core.lesson_status, 'passed');
        assert.equal(Number(cmi.core.score.raw), 100);
        assert.equal(Number(cmi.core.score.max), 100);
        assert.equal(cmi.core.exit, '');
        interactions = values(cmi.interactions);
        const levels = interactions.filter((i) => i.id === 'check-levels');
        assert.deepEqual(levels.map((i) => [i.type, i.student_response, i.result]),
          [['choice', 'a', 'wrong'], ['choice', 'a,b', 'correct']]);
        assert.equal(values(cmi.objectives).find((o) => o.id === 'define-monitoring').status, 'passed');
      }
      assert.equal(interactions.length, 12, 'one interaction per question and attempt');

      // The LRS got the same story, each statement once.
      const all = await waitFor(async () => {
        const s = await statements(t.lrs.url, t.admin);
        return s.some((x) => x.verb.id.endsWith('/terminated')) ? s : null;
      }, 'the terminated statement');
      const count = (verb) => all.filter((s) => s.verb.id === `http://adlnet.gov/expapi/verbs/${verb}`).length;
      assert.deepEqual(
        ['initialized', 'suspended', 'resumed', 'answered', 'scored', 'completed', 'failed', 'passed', 'terminated'].map((x) => [x, count(x)]),
        [['initialized', 1], ['suspended', 1], ['resumed', 1], ['answered', 12], ['scored', 2], ['completed', 1], ['failed', 1], ['passed', 1], ['terminated', 1]]);
      assert.equal(new Set(all.map((s) => s.id)).size, all.length);
      const module = 'urn:kmh:course:demo-course/m01-basics';
      for (const s of all) {
        assert.equal(s.context.registration, reg, 'the SCORM attempt is the registration');
        assert.deepEqual(s.actor.account, { homePage: web.url, name: 'learner-1' });
        assert.ok(s.context.contextActivities.grouping.some((a) => a.id === 'urn:kmh:course:demo-course'));
        assert.ok(s.context.contextActivities.category.some((a) => a.id === 'https://w3id.org/xapi/scorm'));
      }
      const passed = all.find((s) => s.verb.id.endsWith('/passed'));
      assert.equal(passed.object.id, module);
      assert.equal(passed.result.score.scaled, 1);
      const answered = all.find((s) => s.verb.id.endsWith('/answered') && s.object.id.endsWith('/pairs'));
      assert.equal(answered.object.definition.interactionType, 'matching');
      assert.equal(answered.result.response, 'p1[.]o1[,]p2[.]o2');
      assert.deepEqual(answered.context.contextActivities.parent.map((a) => a.id), [`${module}/quiz/check`]);
      assert.ok(answered.context.contextActivities.grouping.some((a) => a.id === module));
      assert.deepEqual(h.queue.filter((s) => !s.verb.id.endsWith('/terminated')), [], 'nothing left waiting');
    } finally {
      await t.teardown();
    }
  });
}

test('LRS down during the session and back later: every statement arrives exactly once', async () => {
  const t = await setup('scorm12');
  try {
    const { page, web } = t;
    const host = `${web.url}/host.html?v=12&learner=learner-1&sco=${encodeURIComponent('/' + SCO)}`;
    await page.goto(host);
    await goTo(page, 'm01-basics/index.html');
    await next(page, 'pages/01-welcome.html');
    await waitFor(async () => (await statements(t.lrs.url, t.admin)).length >= 2, 'first statements');
    await t.lrs.stop();
    await next(page, 'pages/02-charts.html');
    await next(page, 'quiz/check.html');
    await answerQuiz(page, { levelsRight: true });
    const h = await hostData(page, web.url, '12');
    assert.equal(h.cmi.core.lesson_status, 'passed', 'the LMS is told whatever the LRS does');
    const waiting = h.queue;
    assert.ok(waiting.length >= 9, `statements wait in the queue (${waiting.length})`);

    await t.restartLrs();
    await page.goto(host); // the learner comes back; the queue is sent first
    const all = await waitFor(async () => {
      const s = await statements(t.lrs.url, t.admin);
      return waiting.every((w) => s.some((x) => x.id === w.id)) && s.filter((x) => x.verb.id.endsWith('/initialized')).length === 2 ? s : null;
    }, 'the queued statements');
    assert.equal(new Set(all.map((s) => s.id)).size, all.length, 'no statement twice');
    for (const w of waiting) assert.equal(all.filter((s) => s.id === w.id).length, 1);
    assert.equal(all.filter((s) => s.verb.id.endsWith('/passed')).length, 1);
    assert.equal(all.filter((s) => s.verb.id.endsWith('/answered')).length, 6);
    // In order: the stored sequence follows the learner's.
    const order = all.map((s) => s.id).filter((id) => waiting.some((w) => w.id === id));
    assert.deepEqual(order, waiting.map((w) => w.id).filter((id) => order.includes(id)));
  } finally {
    await t.teardown();
  }
});
