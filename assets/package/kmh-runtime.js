/*
 * kmh content runtime: copied into every package by `kmh package`.
 * Plain JavaScript, no build step, no network but the LMS's API and the
 * package's own LRS.
 *
 * Two roles, one file:
 * - On a module's launch page (body.kmh-launch, the SCO's href) it is the
 *   PLAYER: it finds the LMS's SCORM API (1.2 `API`, 2004 `API_1484_11`)
 *   through parent and opener windows (SCORM 1.2 RTE §3.3.6.1, SCORM 2004
 *   RTE §3.1.3), keeps the one SCORM session of the visit, shows the
 *   module's pages in a frame, bookmarks, scores quizzes, and reports xAPI
 *   to the LRS of kmh-runtime.json following the xAPI SCORM Profile.
 * - On a content page outside any player (opened on its own) it scores the
 *   page's quiz locally and tracks nothing. Inside the player frame it does
 *   nothing itself: the player attaches to the page when it loads.
 *
 * Standalone launch: launch.html?endpoint=…&auth=…&actor=…[&registration=…]
 * (Tin Can launch parameters) reports by xAPI only (no SCORM API is looked
 * for) and resumes from the bookmark kept in the xAPI State.
 *
 * Cohort and country: every statement carries the learner's cohort and
 * country as the context extensions urn:kmh:ext:cohort and
 * urn:kmh:ext:country, from the launch URL (`cohort=`, `country=`, in any
 * launch mode) or else from kmh-runtime.json (`kmh package --cohort
 * --country`); an invalid country code is ignored. A question's
 * knowledge/skills/attitude tag travels in its definition
 * (urn:kmh:ext:tag).
 *
 * A quiz with `shuffle: yes` shows single/multiple choices (and matching
 * options) in an order seeded by registration + quiz id + question id:
 * the same order for the same attempt. Responses are reported by choice id
 * in the source order, so scoring and reports do not depend on it.
 *
 * If the LRS refuses the package's credential (401, or 403 also for reading
 * the module's own State), xAPI stops for the visit: no retries, the queue
 * stays in storage, SCORM tracking goes on as before.
 *
 * cmi5 launch: launch.html?endpoint=…&fetch=…&actor=…&registration=…
 * &activityId=… (cmi5 §8.1, whatever the package's target) makes the module
 * a cmi5 AU; see "cmi5" below for what the LMS gets. The hub's copy (the
 * package's LRS of kmh-runtime.json) goes on as in a standalone launch, for
 * the cmi5 actor and registration, except that in Browse and Review modes
 * it records no judgement either (no completion, success, score, answers).
 */
(function () {
  'use strict';

  var VERB = 'http://adlnet.gov/expapi/verbs/';
  var SCORM_PROFILE = 'https://w3id.org/xapi/scorm';
  var ACT = 'http://adlnet.gov/expapi/activities/';
  var EXT_COHORT = 'urn:kmh:ext:cohort', EXT_COUNTRY = 'urn:kmh:ext:country', EXT_TAG = 'urn:kmh:ext:tag';
  var BATCH = 25;
  // Chromium gives the keepalive requests of a page 64 KiB of body in all:
  // the last requests of a closing page share a little less.
  var LAST_BYTES = 60 * 1024;
  var CMI5_CATEGORY = 'https://w3id.org/xapi/cmi5/context/categories/cmi5';
  var CMI5_MOVEON = 'https://w3id.org/xapi/cmi5/context/categories/moveon';
  var CMI5_SESSION = 'https://w3id.org/xapi/cmi5/context/extensions/sessionid';
  var CMI5_MASTERY = 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore';
  // The AU's own State document in the LMS's LRS (activityId + registration
  // of the launch): bookmark, suspend data and what was already reported.
  var CMI5_STATE = 'urn:kmh:state:cmi5';

  var STRINGS = {
    en: {
      score: 'Score: {n} %', passed: 'Passed', failed: 'Not passed yet',
      attemptsLeft: 'Attempts left: {n}', noAttempts: 'No attempts left.',
      thanks: 'Thank you: your answers are recorded.', correct: 'Correct.',
      incorrect: 'Incorrect.', answerAll: 'Please answer every question.',
      resumed: 'Welcome back: you are where you left off.', noLms: 'Your progress is not recorded (no learning platform found).',
      exit: 'Exit', left: 'You have left this module; you can close this window.',
      lmsRefused: 'Your learning platform does not record your progress here ({why}).',
      satisfied: 'This module is done for your learning platform.',
      browse: 'You are looking around: nothing you do here is recorded.',
      review: 'You are reviewing this module: nothing you do here is recorded, and quizzes show your last result.',
      reviewNoAttempt: 'You did not take this quiz.'
    },
    fr: {
      score: 'Note : {n} %', passed: 'Réussi', failed: 'Pas encore réussi',
      attemptsLeft: 'Tentatives restantes : {n}', noAttempts: 'Plus aucune tentative.',
      thanks: 'Merci : vos réponses sont enregistrées.', correct: 'Bonne réponse.',
      incorrect: 'Mauvaise réponse.', answerAll: 'Veuillez répondre à toutes les questions.',
      resumed: 'Bon retour : vous reprenez là où vous vous étiez arrêté.', noLms: 'Votre progression n’est pas enregistrée (aucune plateforme de formation trouvée).',
      exit: 'Quitter', left: 'Vous avez quitté ce module ; vous pouvez fermer cette fenêtre.',
      lmsRefused: 'Votre plateforme de formation n’enregistre pas votre progression ici ({why}).',
      satisfied: 'Ce module est validé pour votre plateforme de formation.',
      browse: 'Vous parcourez ce module : rien de ce que vous faites ici n’est enregistré.',
      review: 'Vous revoyez ce module : rien de ce que vous faites ici n’est enregistré, et les quiz montrent votre dernier résultat.',
      reviewNoAttempt: 'Vous n’avez pas fait ce quiz.'
    }
  };
  function strings(lang) { return (lang || '').toLowerCase().indexOf('fr') === 0 ? STRINGS.fr : STRINGS.en; }

  // ------------------------------------------------------------ helpers

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function isoDuration(ms) {
    var s = Math.max(0, Math.round(ms / 10) / 100);
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s = Math.round((s - m * 60) * 100) / 100;
    return 'PT' + (h ? h + 'H' : '') + (m ? m + 'M' : '') + s + 'S';
  }
  function cmiTimespan(ms) { // SCORM 1.2 CMITimespan HHHH:MM:SS.SS
    var cs = Math.max(0, Math.round(ms / 10));
    var h = Math.floor(cs / 360000); cs -= h * 360000;
    var m = Math.floor(cs / 6000); cs -= m * 6000;
    var s = (cs / 100).toFixed(2);
    function p(n, w) { n = String(n); while (n.length < w) n = '0' + n; return n; }
    return p(h, 4) + ':' + p(m, 2) + ':' + p(s, 5);
  }
  function cmiTime(d) { return d.toTimeString().slice(0, 8); }
  // Statement timestamps never repeat and never go back within a page:
  // cmi5 orders a session's statements by timestamp (§9.3), and a
  // `failed` and its `terminated` are often made in the same millisecond.
  var lastStamp = 0;
  function stamp() { lastStamp = Math.max(Date.now(), lastStamp + 1); return new Date(lastStamp).toISOString(); }
  function storage() { try { var k = '__kmh'; localStorage.setItem(k, k); localStorage.removeItem(k); return localStorage; } catch (e) { return null; } }
  function round4(x) { return Math.round(x * 10000) / 10000; }
  // Seeded PRNG (FNV-1a of the seed string, then mulberry32): a quiz with
  // `shuffle: yes` shows the same order for the same attempt (registration),
  // so a learner who resumes sees the choices where they left them.
  function seeded(seed) {
    var h = 0x811c9dc5;
    for (var i = 0; i < seed.length; i++) { h ^= seed.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return function () {
      h = (h + 0x6d2b79f5) >>> 0;
      var t = h;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  function shuffleNodes(nodes, random) {
    nodes = Array.prototype.slice.call(nodes);
    if (nodes.length < 2) return;
    var parent = nodes[0].parentNode, anchor = nodes[nodes.length - 1].nextSibling;
    for (var i = nodes.length - 1; i > 0; i--) {
      var j = Math.floor(random() * (i + 1));
      var x = nodes[i]; nodes[i] = nodes[j]; nodes[j] = x;
    }
    nodes.forEach(function (n) { parent.insertBefore(n, anchor); });
  }

  // ------------------------------------------------------------ SCORM

  // ADL's discovery algorithm: walk up the parents (at most 500), then the
  // opener and its parents. A cross-origin window throws: skip it.
  function scan(win, name) {
    var tries = 0;
    while (win && tries < 500) {
      try { if (win[name]) return win; } catch (e) { /* cross-origin */ }
      var parent;
      try { parent = win.parent; } catch (e) { parent = null; }
      if (!parent || parent === win) break;
      win = parent; tries++;
    }
    return null;
  }
  function findApiWindow(name) {
    var w = scan(window, name);
    if (!w) { try { if (window.top && window.top.opener) w = scan(window.top.opener, name); } catch (e) { w = null; } }
    if (!w) { try { if (window.opener) w = scan(window.opener, name); } catch (e) { w = null; } }
    return w;
  }

  function Scorm(win, v2004) {
    this.api = v2004 ? win.API_1484_11 : win.API;
    this.win = win;
    this.v2004 = v2004;
    this.live = false; // true between Initialize and Terminate, never again after
    this.ended = false;
  }
  Scorm.prototype.call = function (n12, n2004, args) {
    if (!this.live) return '';
    try { return String(this.api[this.v2004 ? n2004 : n12].apply(this.api, args)); } catch (e) { return ''; }
  };
  Scorm.prototype.init = function () {
    if (this.ended) return false;
    var ok;
    try { ok = String(this.v2004 ? this.api.Initialize('') : this.api.LMSInitialize('')) === 'true'; } catch (e) { ok = false; }
    this.live = ok;
    return ok;
  };
  Scorm.prototype.get = function (k) { return this.call('LMSGetValue', 'GetValue', [k]); };
  Scorm.prototype.set = function (k, v) { return this.call('LMSSetValue', 'SetValue', [k, String(v)]) === 'true'; };
  Scorm.prototype.commit = function () { return this.call('LMSCommit', 'Commit', ['']) === 'true'; };
  Scorm.prototype.finish = function () {
    if (!this.live) return;
    this.call('LMSFinish', 'Terminate', ['']);
    this.live = false;
    this.ended = true;
  };

  // ------------------------------------------------------------ xAPI

  // Statements wait in localStorage (in order, with their ids) until the
  // LRS acknowledges them; a statement sent twice is a no-op for the LRS.
  // `ns` keeps the queues of a second LRS at the same endpoint apart (a
  // cmi5 LMS's LRS may be the hub's too).
  function Xapi(endpoint, auth, actor, ns) {
    this.endpoint = endpoint.replace(/\/?$/, '/');
    this.auth = auth;
    this.actor = actor;
    this.store = storage();
    this.ns = ns ? ns + '|' : '';
    this.key = 'kmh-xapi-queue|' + this.ns + this.endpoint;
    this.stateKey = 'kmh-xapi-state|' + this.ns + this.endpoint;
    this.memory = [];
    this.memoryState = {};
    this.busy = false;
    this.refused = false; // the LRS refused the credential (401/403): stop for this visit
    this.probeUrl = null; // a request the credential may always make (its own State)
    // Statements this LRS may refuse without harm (a cmi5 LMS's allowed
    // statements): they go last when the page closes, and once the LRS
    // refuses one of them (403 while the credential still works) the rest
    // are dropped and no more are sent (optionalRefused).
    this.optional = function () { return false; };
    this.optionalRefused = false;
    this.delay = 1000;
    this.timer = null;
    var self = this;
    window.addEventListener('online', function () { self.flush(); });
  }
  Xapi.prototype.load = function (key, fallback) {
    if (!this.store) return key === this.key ? this.memory : this.memoryState;
    try { return JSON.parse(this.store.getItem(key) || 'null') || fallback; } catch (e) { return fallback; }
  };
  Xapi.prototype.save = function (key, value) {
    if (!this.store) { if (key === this.key) this.memory = value; else this.memoryState = value; return; }
    try { this.store.setItem(key, JSON.stringify(value)); } catch (e) { /* full: keep what is there */ }
  };
  Xapi.prototype.headers = function (type) {
    var h = { 'X-Experience-API-Version': '1.0.3', Authorization: this.auth };
    if (type) h['Content-Type'] = type;
    return h;
  };
  // A cmi5 session's statements go in a queue of their own: the LMS's
  // token is valid for its session only, so a queue left by an earlier
  // session can never be sent. Queues of other sessions older than a day
  // are removed (a newer session may still be running in another tab).
  Xapi.prototype.sessionQueue = function (session) {
    var key = 'kmh-xapi-queue|' + this.ns + session + '|' + this.endpoint;
    this.key = key;
    var store = this.store, prefix = 'kmh-xapi-queue|' + this.ns, suffix = '|' + this.endpoint;
    if (!store) return;
    var old = Date.now() - 86400000;
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (!k || k === key || k.indexOf(prefix) !== 0 || k.slice(-suffix.length) !== suffix) continue;
      var q = this.load(k, []);
      var newest = q.length ? Date.parse(q[q.length - 1].timestamp) : 0;
      if (!(newest > old)) store.removeItem(k);
    }
  };
  Xapi.prototype.send = function (stmt) {
    stmt.id = uuid();
    stmt.timestamp = stamp();
    stmt.actor = this.actor;
    var q = this.load(this.key, []);
    q.push(stmt);
    this.save(this.key, q);
    this.flush();
    return stmt;
  };
  Xapi.prototype.putState = function (activityId, stateId, registration, doc) {
    var url = this.stateUrl(activityId, stateId, registration);
    var s = this.load(this.stateKey, {});
    s[url] = doc; // only the newest version of each document matters
    this.save(this.stateKey, s);
    this.flush();
  };
  Xapi.prototype.stateUrl = function (activityId, stateId, registration) {
    return this.endpoint + 'activities/state?activityId=' + encodeURIComponent(activityId) +
      '&agent=' + encodeURIComponent(JSON.stringify(this.actor)) + '&stateId=' + encodeURIComponent(stateId) +
      (registration ? '&registration=' + encodeURIComponent(registration) : '');
  };
  // A JSON document, null if there is none (404); rejects on anything else.
  Xapi.prototype.getJson = function (url) {
    return fetch(url, { headers: this.headers() }).then(function (r) {
      if (r.status === 404) return null;
      if (!r.ok) throw new Error('HTTP ' + r.status + ' for ' + url.split('?')[0]);
      return r.json();
    });
  };
  Xapi.prototype.getState = function (activityId, stateId, registration) {
    var url = this.stateUrl(activityId, stateId, registration);
    // A version still waiting to be sent is newer than the LRS's.
    var pending = this.load(this.stateKey, {})[url];
    if (pending) return Promise.resolve(pending);
    if (this.refused) return Promise.resolve(null);
    return fetch(url, { headers: this.headers() }).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  };
  // A 401, or a 403 that the credential also gets for a request it is
  // always allowed (reading its own State): the credential is revoked or
  // not valid from here. Sending stops for this visit and the queue stays
  // in storage (nothing is dropped; a later visit tries once again).
  Xapi.prototype.credentialRefused = function (status) {
    var self = this;
    if (status !== 401 && status !== 403) return Promise.resolve(false);
    var probe = status === 401 || !this.probeUrl ? Promise.resolve(status)
      : fetch(this.probeUrl, { headers: this.headers() }).then(function (r) { return r.status; }, function () { return 0; });
    return probe.then(function (st) {
      if (st !== 401 && st !== 403) return false;
      if (!self.refused && window.console) console.warn('kmh: the LRS refuses this package\'s credential (' + st + '); statements stay queued');
      self.refused = true;
      if (self.timer) { clearTimeout(self.timer); self.timer = null; }
      return true;
    });
  };
  Xapi.prototype.retryLater = function () {
    var self = this;
    if (this.timer || this.refused) return;
    this.timer = setTimeout(function () { self.timer = null; self.flush(); }, this.delay);
    this.delay = Math.min(this.delay * 2, 10000);
  };
  Xapi.prototype.flush = function () {
    var self = this;
    if (this.busy || this.refused) return Promise.resolve();
    var q = this.load(this.key, []);
    var states = this.load(this.stateKey, {});
    var urls = Object.keys(states);
    if (!q.length && !urls.length) return Promise.resolve();
    this.busy = true;
    var done = function () { self.busy = false; };
    if (q.length) {
      var batch = q.slice(0, BATCH);
      return fetch(this.endpoint + 'statements', { method: 'POST', headers: this.headers('application/json'), body: JSON.stringify(batch) })
        .then(function (r) {
          if (r.ok) return self.acknowledged(batch);
          if (r.status >= 500 || r.status === 429) throw new Error('LRS ' + r.status);
          return self.credentialRefused(r.status).then(function (refused) {
            if (refused) return;
            // One bad statement must not hold back the others: send one by one.
            if (batch.length > 1) return self.oneByOne(batch);
            return self.statementRefused(batch[0], r.status);
          });
        })
        .then(function () { done(); self.delay = 1000; return self.flush(); },
          function () { done(); self.retryLater(); });
    }
    var url = urls[0];
    var doc = states[url];
    return fetch(url, { method: 'PUT', headers: this.headers('application/json'), body: JSON.stringify(doc) })
      .then(function (r) {
        if (r.status >= 500 || r.status === 429) throw new Error('LRS ' + r.status);
        return self.credentialRefused(r.status);
      })
      .then(function (refused) {
        if (refused) return;
        var now = self.load(self.stateKey, {});
        if (JSON.stringify(now[url]) === JSON.stringify(doc)) delete now[url];
        self.save(self.stateKey, now);
      })
      .then(function () { done(); return self.flush(); }, function () { done(); self.retryLater(); });
  };
  Xapi.prototype.oneByOne = function (batch) {
    var self = this;
    var stmt = batch[0];
    return fetch(this.endpoint + 'statements', { method: 'POST', headers: this.headers('application/json'), body: JSON.stringify([stmt]) })
      .then(function (r) {
        if (r.status >= 500 || r.status === 429) throw new Error('LRS ' + r.status);
        return (r.ok ? Promise.resolve(false) : self.credentialRefused(r.status)).then(function (refused) {
          if (refused) return;
          if (r.ok) self.acknowledged([stmt]);
          else self.statementRefused(stmt, r.status);
          // What statementRefused dropped is not sent again.
          var left = self.load(self.key, []).map(function (s) { return s.id; });
          var rest = batch.slice(1).filter(function (s) { return left.indexOf(s.id) >= 0; });
          if (rest.length) return self.oneByOne(rest);
        });
      });
  };
  // The LRS refused one statement (4xx) while the credential works: it is
  // dropped, in its place in the queue, so the ones after it go on in
  // order. An optional one refused with 403 means the credential may not
  // write such statements at all (a cmi5 LMS token limited to the AU's
  // activity): the other optional ones are dropped too, none are queued
  // again, and the queue never waits for them.
  Xapi.prototype.statementRefused = function (stmt, status) {
    var self = this;
    if (window.console) console.warn('kmh: the LRS refused statement ' + stmt.id + ' (' + status + '); dropped');
    this.acknowledged([stmt]);
    if (status === 403 && this.optional(stmt)) {
      if (!this.optionalRefused && window.console) console.warn('kmh: the LRS refuses this kind of statement (' + status + '); no more are sent to it');
      this.optionalRefused = true;
      this.save(this.key, this.load(this.key, []).filter(function (s) { return !self.optional(s); }));
    }
  };
  Xapi.prototype.acknowledged = function (batch) {
    var ids = {};
    batch.forEach(function (s) { ids[s.id] = true; });
    this.save(this.key, this.load(this.key, []).filter(function (s) { return !ids[s.id]; }));
  };
  // The page is going away: hands the browser what fits of the queues in
  // keepalive requests of at most `budget` bytes in all. The budget goes
  // first to the statements that must arrive (those that are not optional,
  // such as a cmi5 session's `terminated`), then to the State documents
  // waiting (the bookmark the next launch resumes from, on this device or
  // another), then to the optional statements; statements BATCH at a time,
  // oldest first. The State documents are sent before any statement:
  // keepalive requests may arrive in any order, and an LMS that ends the
  // session when `terminated` arrives may refuse a State written after it.
  // Everything stays queued: a later visit sends it again, a no-op for what
  // arrived. Returns the bytes used.
  Xapi.prototype.lastRequests = function (budget) {
    var self = this;
    if (this.refused) return 0;
    var q = this.load(this.key, []);
    var used = 0;
    var last = function (url, method, body) {
      try {
        fetch(url, { method: method, keepalive: true, headers: self.headers('application/json'), body: body }).catch(function () {});
      } catch (e) { /* the browser refused the request: the queue keeps it */ }
    };
    // The body of the oldest statements of `group` that fit what is left
    // of the budget, or null.
    var batchOf = function (group) {
      var picked = [], size = 2; // the brackets
      for (var i = 0; i < group.length && picked.length < BATCH; i++) {
        var n = new Blob([JSON.stringify(group[i])]).size + 1;
        if (used + size + n > budget) break;
        picked.push(group[i]); size += n;
      }
      if (!picked.length) return null;
      used += size;
      return JSON.stringify(picked);
    };
    var mandatory = batchOf(q.filter(function (s) { return !self.optional(s); }));
    var states = this.load(this.stateKey, {});
    Object.keys(states).forEach(function (url) {
      var body = JSON.stringify(states[url]);
      var n = new Blob([body]).size;
      if (used + n > budget) {
        if (window.console) console.warn('kmh: the State document ' + url + ' (' + n + ' bytes) does not fit in what a closing page may send; it is sent at the next launch');
        return;
      }
      used += n;
      last(url, 'PUT', body);
    });
    if (mandatory) last(self.endpoint + 'statements', 'POST', mandatory);
    var optional = batchOf(q.filter(function (s) { return self.optional(s); }));
    if (optional) last(self.endpoint + 'statements', 'POST', optional);
    return used;
  };
  Xapi.prototype.pending = function () { return this.load(this.key, []).length + Object.keys(this.load(this.stateKey, {})).length; };

  // Sends what waits in these queues, for at most `ms` (the learner is
  // leaving through the exit button and the page goes next).
  function drain(xapis, ms) {
    var deadline = Date.now() + ms;
    return new Promise(function (resolve) {
      (function tick() {
        var left = xapis.filter(function (x) { return x && !x.refused && x.pending() > 0; });
        if (!left.length || Date.now() > deadline) return resolve();
        left.forEach(function (x) { x.flush(); });
        setTimeout(tick, 100);
      })();
    });
  }

  // ------------------------------------------------------------ cmi5

  // The cmi5 launch parameters (§8.1), or null when the launch is not cmi5.
  function cmi5Launch(params) {
    var names = ['endpoint', 'fetch', 'actor', 'registration', 'activityId'];
    if (!names.every(function (n) { return params.get(n); })) return null;
    var actor;
    try { actor = JSON.parse(params.get('actor')); } catch (e) { actor = null; }
    // §9.2: an Agent with an account; anything else cannot be the learner.
    if (!actor || typeof actor !== 'object' || !actor.account || !actor.account.name || !actor.account.homePage) actor = null;
    return {
      endpoint: params.get('endpoint'), fetch: params.get('fetch'), actor: actor,
      registration: params.get('registration'), activityId: params.get('activityId')
    };
  }

  // One POST to the fetch URL (§8.2): the token, or an error naming what
  // the LMS said (its error form is {"error-code", "error-text"}).
  function fetchAuthToken(url) {
    return fetch(url, { method: 'POST', cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('the fetch URL answered HTTP ' + r.status);
      return r.json();
    }).then(function (body) {
      if (body && typeof body['auth-token'] === 'string' && body['auth-token']) return body['auth-token'];
      if (body && body['error-code'] !== undefined) {
        throw new Error('the fetch URL answered error ' + body['error-code'] + (body['error-text'] ? ': ' + body['error-text'] : ''));
      }
      throw new Error('the fetch URL answered no auth-token');
    });
  }

  // The first of the learner's languages (cmi5LearnerPreferences, §11.1)
  // that the runtime speaks, or null.
  function preferredLanguage(pref) {
    var tags = typeof pref === 'string' ? pref.split(',') : [];
    for (var i = 0; i < tags.length; i++) {
      var m = /^\s*(en|fr)(-|\s*$)/i.exec(tags[i]);
      if (m) return m[1].toLowerCase();
    }
    return null;
  }

  // Adds an activity to a contextActivities list of a statement's context
  // unless it is there: what the LMS's contextTemplate holds stays as it is.
  function addContextActivity(context, list, id) {
    var acts = context.contextActivities = context.contextActivities || {};
    var l = acts[list];
    if (l && !Array.isArray(l)) l = [l]; // xAPI allows a single object
    l = l || [];
    if (!l.some(function (a) { return a && a.id === id; })) l.push({ objectType: 'Activity', id: id });
    acts[list] = l;
  }

  // moveOn (§13.1.4) met by what was reported in this registration.
  function moveOnMet(moveOn, flags) {
    if (moveOn === 'Passed') return !!flags.passed;
    if (moveOn === 'Completed') return !!flags.completed;
    if (moveOn === 'CompletedAndPassed') return !!(flags.completed && flags.passed);
    if (moveOn === 'CompletedOrPassed') return !!(flags.completed || flags.passed);
    return false;
  }

  // A URL the exit may go to: http(s) only (the LMS's returnURL is data).
  function safeUrl(u) {
    try { var url = new URL(u, location.href); return /^https?:$/.test(url.protocol) ? url.href : null; } catch (e) { return null; }
  }

  // ------------------------------------------------------------ quizzes

  // Evaluates one question of the model against the form in `form`.
  function evaluate(q, form, model) {
    var els = form.elements;
    var r = { q: q, response: '', xapi: '', scorm12: '', scorm2004: '', correct: null, feedback: [], answered: false };
    function checked(name) {
      var out = [];
      Array.prototype.forEach.call(form.querySelectorAll('input[name="' + name + '"]'), function (i) { if (i.checked) out.push(i.value); });
      return out;
    }
    var letters = 'abcdefghijklmnopqrstuvwxyz';
    if (q.type === 'single' || q.type === 'multiple') {
      var ids = q.choices.map(function (c) { return c.id; });
      // In the model's order, whatever order the choices were shown in.
      var picked = checked(q.name).sort(function (x, y) { return ids.indexOf(x) - ids.indexOf(y); });
      r.answered = picked.length > 0;
      var want = q.choices.filter(function (c) { return c.correct; }).map(function (c) { return c.id; });
      r.correct = picked.length === want.length && picked.every(function (p) { return want.indexOf(p) >= 0; });
      q.choices.forEach(function (c) { if (picked.indexOf(c.id) >= 0 && c.feedback) r.feedback.push(c.feedback); });
      r.xapi = picked.join('[,]');
      r.scorm2004 = r.xapi;
      r.scorm12 = picked.map(function (p) { return letters[q.choices.findIndex(function (c) { return c.id === p; })]; }).join(',');
      r.text = picked.map(function (p) { return q.choices.find(function (c) { return c.id === p; }).text; }).join('; ');
    } else if (q.type === 'truefalse') {
      var v = checked(q.name)[0];
      r.answered = v !== undefined;
      r.correct = v === String(q.answer);
      r.xapi = r.scorm2004 = v || '';
      r.scorm12 = v ? v.charAt(0) : '';
      r.text = v || '';
    } else if (q.type === 'matching') {
      var all = true, parts = [], p12 = [], texts = [];
      r.answered = true;
      q.pairs.forEach(function (p, i) {
        var sel = els.namedItem(q.name + '-' + p.id);
        var val = sel ? sel.value : '';
        if (!val) r.answered = false;
        if (val !== p.right) all = false;
        var o = q.options.indexOf(val);
        if (o >= 0) { parts.push(p.id + '[.]o' + (o + 1)); p12.push((i + 1) + '.' + letters[o]); }
        texts.push(p.left + ' → ' + val);
      });
      r.correct = all;
      r.xapi = r.scorm2004 = parts.join('[,]');
      r.scorm12 = p12.join(',');
      r.text = texts.join('; ');
    } else if (q.type === 'fill-in' || q.type === 'text') {
      var input = form.querySelector('[name="' + q.name + '"]');
      var t = input ? input.value.trim() : '';
      r.answered = t.length > 0;
      if (q.type === 'fill-in') {
        r.correct = q.answer.some(function (a) { return a.trim().toLowerCase() === t.toLowerCase(); });
      }
      r.xapi = r.scorm2004 = t.slice(0, q.type === 'text' ? 4000 : 250);
      r.scorm12 = t.slice(0, 255);
      r.text = t;
    } else if (q.type === 'likert') {
      var l = checked(q.name)[0];
      r.answered = l !== undefined;
      r.xapi = r.scorm2004 = r.scorm12 = l || '';
      r.text = l || '';
    }
    if (!q.scored) r.correct = null;
    return r;
  }

  function interactionType(q, v2004) {
    return { single: 'choice', multiple: 'choice', truefalse: 'true-false', matching: 'matching', 'fill-in': 'fill-in', likert: 'likert', text: v2004 ? 'long-fill-in' : 'fill-in' }[q.type];
  }
  function correctPattern(q, flavour) {
    var letters = 'abcdefghijklmnopqrstuvwxyz';
    if (q.type === 'single' || q.type === 'multiple') {
      var ids = [];
      q.choices.forEach(function (c, i) { if (c.correct) ids.push(flavour === '12' ? letters[i] : c.id); });
      return ids.join(flavour === '12' ? ',' : '[,]');
    }
    if (q.type === 'truefalse') return flavour === '12' ? String(q.answer).charAt(0) : String(q.answer);
    if (q.type === 'matching') {
      return q.pairs.map(function (p, i) {
        var o = q.options.indexOf(p.right);
        return flavour === '12' ? (i + 1) + '.' + letters[o] : p.id + '[.]o' + (o + 1);
      }).join(flavour === '12' ? ',' : '[,]');
    }
    if (q.type === 'fill-in') return q.answer[0];
    return null;
  }

  // The cohort and country the statements carry: the cmi5 LMS's (its
  // contextTemplate's extensions: the LMS knows the learner's enrolment),
  // else the launch URL's, else the package's. Country codes are ISO
  // 3166-1 alpha-2; anything else is left out rather than sent.
  function learnerContext(params, built, lms) {
    lms = lms || {};
    function clean(v) { v = typeof v === 'string' ? v.trim() : ''; return v && v.length <= 100 && !/[\u0000-\u001f\u007f]/.test(v) ? v : null; }
    var cohort = clean(lms[EXT_COHORT]) || clean(params.get('cohort')) || clean(built.cohort);
    var country = null;
    [lms[EXT_COUNTRY], params.get('country'), built.country].some(function (c) {
      c = typeof c === 'string' ? c.trim() : '';
      if (/^[A-Za-z]{2}$/.test(c)) { country = c.toUpperCase(); return true; }
      if (c && window.console) console.warn('kmh: country ' + JSON.stringify(c) + ' is not an ISO 3166-1 alpha-2 code; ignored');
      return false;
    });
    var ext = {};
    if (cohort) ext[EXT_COHORT] = cohort;
    if (country) ext[EXT_COUNTRY] = country;
    return ext;
  }

  // ------------------------------------------------------------ player

  function Player(launchDoc, detached) {
    this.doc = launchDoc;
    this.body = launchDoc.body;
    this.detached = detached;
    this.lang = launchDoc.documentElement.lang || 'en';
    this.t = strings(this.lang);
    this.started = Date.now();
    this.finished = false;
    this.scorm = null;
    this.xapi = null;
    this.cmi5 = null; // a cmi5 launch: its parameters, LMS.LaunchData and LMS queue
    this.data = { v: 1, seen: [], quiz: {} };
    this.status = { completed: false, success: null, scaled: null, raw: null, max: null };
    this.reported = {};
    this.pageShown = Date.now();
  }

  Player.prototype.start = function () {
    var self = this;
    var root = this.body.getAttribute('data-kmh-root') || '';
    this.moduleId = this.body.getAttribute('data-kmh-module');
    var base = new URL(root, location.href);
    this.base = base;
    return fetch(new URL('kmh-runtime.json', base).href).then(function (r) { return r.json(); }).catch(function () { return null; })
      .then(function (config) { return self.connect(config || {}); });
  };

  Player.prototype.connect = function (config) {
    var self = this;
    this.config = config;
    this.module = (config.modules || []).filter(function (m) { return m.id === self.moduleId; })[0] || { id: this.moduleId, activity_id: 'urn:kmh:module:' + this.moduleId, pages: [], quizzes: [], objectives: [] };
    this.moduleDir = new URL(this.moduleId + '/', this.base).href;
    if (this.detached) return;

    var params = new URLSearchParams(location.search);
    var cmi5 = cmi5Launch(params);
    if (cmi5) return this.connectCmi5(config, params, cmi5);
    this.learnerContext = learnerContext(params, config.context || {});
    var entryResume = false, location0 = '', suspend = '', learner = null, homePage = null;
    if (params.get('endpoint') && params.get('auth') && params.get('actor')) {
      // Tin Can launch: xAPI only.
      var actor;
      try { actor = JSON.parse(params.get('actor')); } catch (e) { actor = null; }
      if (actor) {
        if (Array.isArray(actor.name)) actor.name = actor.name[0];
        if (Array.isArray(actor.mbox)) actor.mbox = actor.mbox[0];
        if (actor.account && Array.isArray(actor.account)) actor.account = actor.account[0];
        this.xapi = new Xapi(params.get('endpoint'), params.get('auth'), actor);
        this.registration = params.get('registration') || uuid();
        this.standalone = true;
      }
    } else {
      var v2004 = config.target !== 'scorm12';
      var names = v2004 ? ['API_1484_11', 'API'] : ['API', 'API_1484_11'];
      for (var i = 0; i < names.length && !this.scorm; i++) {
        var w = findApiWindow(names[i]);
        if (w) this.scorm = new Scorm(w, names[i] === 'API_1484_11');
      }
      if (this.scorm && !this.scorm.init()) this.scorm = null;
      if (this.scorm) {
        var s = this.scorm, is04 = s.v2004;
        entryResume = s.get(is04 ? 'cmi.entry' : 'cmi.core.entry') === 'resume';
        location0 = s.get(is04 ? 'cmi.location' : 'cmi.core.lesson_location');
        suspend = s.get('cmi.suspend_data');
        learner = { id: s.get(is04 ? 'cmi.learner_id' : 'cmi.core.student_id'), name: s.get(is04 ? 'cmi.learner_name' : 'cmi.core.student_name') };
        try { homePage = s.win.location.origin; } catch (e) { homePage = null; }
        if (!homePage || homePage === 'null') { try { homePage = new URL(document.referrer).origin; } catch (e) { homePage = location.origin; } }
        var st = s.get(is04 ? 'cmi.completion_status' : 'cmi.core.lesson_status');
        if (st === 'completed' || st === 'passed' || st === 'failed') this.status.completed = true;
        if (!is04 && (st === 'not attempted' || st === '')) s.set('cmi.core.lesson_status', 'incomplete');
        if (is04 && (st === 'not attempted' || st === 'unknown' || st === '')) s.set('cmi.completion_status', 'incomplete');
      }
    }
    if (suspend) { try { var d = JSON.parse(suspend); if (d && d.v === 1) this.data = d; } catch (e) { /* not ours */ } }
    var resumed = entryResume && !!this.data.reg;
    if (!this.registration) this.registration = this.data.reg && (resumed || !this.scorm) ? this.data.reg : uuid();
    this.data.reg = this.registration;
    this.data.seen = this.data.seen || [];
    this.data.quiz = this.data.quiz || {};

    if (!this.xapi && learner && learner.id) {
      this.hub({ objectType: 'Agent', name: learner.name || undefined, account: { homePage: homePage, name: learner.id } });
    }
    if (this.xapi) {
      this.xapi.probeUrl = this.xapi.stateUrl(this.module.activity_id, 'urn:kmh:state:bookmark');
      this.xapi.flush();
    }

    var ready = Promise.resolve();
    if (this.standalone && !location0) {
      // Resume across LMSs and launches: the bookmark kept in the LRS.
      ready = this.xapi.getState(this.module.activity_id, 'urn:kmh:state:bookmark').then(function (doc) {
        if (doc && doc.location) { location0 = doc.location; resumed = true; }
        if (doc && doc.suspend_data) { try { var d2 = JSON.parse(doc.suspend_data); if (d2 && d2.v === 1) { d2.reg = self.registration; self.data = d2; } } catch (e) { /* ignore */ } }
      });
    }
    return ready.then(function () {
      self.resumed = resumed;
      self.xapiSend(resumed ? 'resumed' : 'initialized', self.moduleActivity(), null, { parent: 'course' });
      self.show(location0);
    });
  };

  // The hub's copy: the package's LRS of kmh-runtime.json, if it has one.
  Player.prototype.hub = function (actor) {
    var lrs = this.config.lrs;
    if (!lrs || !lrs.endpoint || !lrs.key || !lrs.secret) return;
    this.xapi = new Xapi(lrs.endpoint, 'Basic ' + btoa(lrs.key + ':' + lrs.secret), actor);
  };

  // cmi5 launch (§8): one POST to the fetch URL for the LMS's token, then
  // LMS.LaunchData (§10), the learner's preferences (§11) and this AU's own
  // State (bookmark and suspend data: the learner resumes where they left
  // off, on any device). The LMS gets, with its contextTemplate merged in:
  // - cmi5 defined statements about the launch's activityId: `initialized`
  //   first; in Normal mode `completed` once per registration when the
  //   module's completion rule is met, `passed` once per registration when
  //   the module's score reaches the mastery score (LMS.LaunchData's, else
  //   the module's), `failed` at the end of a session in which the learner
  //   was judged and did not pass (not sooner: one of passed/failed per
  //   session, so a learner may still pass after a failed attempt, and
  //   never after a passed); `terminated` last. No passed/failed without a
  //   mastery score and a scored quiz. Browse and Review modes send only
  //   `initialized` and `terminated` and leave the AU's State as it was;
  //   the hub then gets no judgement either (see judging()), and Review
  //   shows each quiz's last result without taking a new attempt.
  // - cmi5 allowed statements: the `answered` of each question (the item
  //   data a SCORM LMS gets as interactions), in Normal mode only (Browse
  //   and Review are "without judgement"), with the AU as their parent.
  //   Their objects are the module's questions, not the launch's activity:
  //   an LMS whose token may only write statements about that activity
  //   answers 403; they are then dropped and no more are sent, and the
  //   defined statements go on in order (Xapi.statementRefused).
  //   Page views and quiz scores stay with the hub: the LMS reports by AU.
  // moveOn is the LMS's rule (the AU reports completed/passed whatever it
  // is, §9.3.3-4); the runtime tells the learner when it is met.
  // launchParameters are not used: kmh modules define none.
  // A launch the LMS refuses (fetch error, no LaunchData or session id)
  // shows the learner why and sends nothing to the LMS; the hub still
  // gets its statements.
  Player.prototype.connectCmi5 = function (config, params, launch) {
    var self = this;
    var c = this.cmi5 = { launch: launch, lms: null, mode: 'Normal', mastery: null, moveOn: null, returnURL: null, flags: {}, sent: {}, ended: false };
    this.registration = launch.registration;
    this.data.reg = launch.registration;
    var ext = {}, location0 = '', resumed = false;
    if (launch.actor) this.hub(launch.actor);
    var ready = !launch.actor ? Promise.reject(new Error('the launch\'s actor is not an Agent with an account'))
      : fetchAuthToken(launch.fetch).then(function (token) {
        var lms = new Xapi(launch.endpoint, 'Basic ' + token, launch.actor, 'cmi5');
        lms.optional = function (s) { return !isCmi5Defined(s); };
        var launchData = lms.stateUrl(launch.activityId, 'LMS.LaunchData', launch.registration);
        var prefs = lms.endpoint + 'agents/profile?agent=' + encodeURIComponent(JSON.stringify(launch.actor)) + '&profileId=cmi5LearnerPreferences';
        lms.probeUrl = launchData;
        return Promise.all([
          lms.getJson(launchData),
          // An LMS may refuse the preferences (403): not an error (§11).
          lms.getJson(prefs).catch(function () { return null; }),
          lms.getState(launch.activityId, CMI5_STATE, launch.registration)
        ]).then(function (docs) { return self.launched(lms, docs[0], docs[1], docs[2]); });
      });
    return ready.then(function (state) {
      ext = c.template.extensions || {};
      if (state && state.suspend_data) {
        try { var d = JSON.parse(state.suspend_data); if (d && d.v === 1) { d.reg = self.registration; self.data = d; } } catch (e) { /* not ours */ }
      }
      if (state && typeof state.location === 'string' && state.location) { location0 = state.location; resumed = true; }
      c.flags = { completed: !!(state && state.completed), passed: !!(state && state.passed) };
      self.status.completed = c.flags.completed;
    }, function (e) {
      if (window.console) console.warn('kmh: cmi5 launch refused: ' + e.message + '; nothing is sent to the LMS');
      c.lms = null;
      c.refused = e.message;
    }).then(function () {
      self.data.seen = self.data.seen || [];
      self.data.quiz = self.data.quiz || {};
      self.learnerContext = learnerContext(params, config.context || {}, ext);
      if (self.xapi) {
        self.xapi.probeUrl = self.xapi.stateUrl(self.module.activity_id, 'urn:kmh:state:bookmark');
        self.xapi.flush();
      }
      self.resumed = resumed;
      self.lmsSend('initialized');
      self.xapiSend(resumed ? 'resumed' : 'initialized', self.moduleActivity(), null, { parent: 'course' });
      self.show(location0);
    });
  };

  // LMS.LaunchData and the preferences are in: the LMS's rules for this
  // session. Resolves with the AU's own State document (or null).
  Player.prototype.launched = function (lms, data, prefs, state) {
    var c = this.cmi5;
    if (!data || typeof data.contextTemplate !== 'object' || !data.contextTemplate) throw new Error('no LMS.LaunchData with a contextTemplate');
    var session = data.contextTemplate.extensions && data.contextTemplate.extensions[CMI5_SESSION];
    if (!session) throw new Error('the contextTemplate has no session id');
    lms.sessionQueue(String(session));
    c.lms = lms;
    c.template = data.contextTemplate;
    // Anything but Normal records no satisfaction: an unknown mode is
    // treated as Browse rather than judging the learner by mistake.
    c.mode = data.launchMode;
    if (['Normal', 'Browse', 'Review'].indexOf(c.mode) < 0 && window.console) console.warn('kmh: launchMode ' + JSON.stringify(c.mode) + ' is not Normal, Browse or Review; nothing is judged');
    var m = data.masteryScore;
    if (typeof m === 'number' && m >= 0 && m <= 1) c.mastery = m;
    else if (m !== undefined && m !== null && window.console) console.warn('kmh: masteryScore ' + JSON.stringify(m) + ' is not a decimal in 0..1; the module\'s is used');
    // LMS.LaunchData must have moveOn; if it does not, the course
    // structure's (kmh-runtime.json of a cmi5 package) is the best guess.
    var au = this.module.cmi5 || {};
    c.moveOn = typeof data.moveOn === 'string' ? data.moveOn : typeof au.move_on === 'string' ? au.move_on : null;
    c.returnURL = typeof data.returnURL === 'string' && data.returnURL ? safeUrl(data.returnURL) : null;
    var lang = preferredLanguage(prefs && prefs.languagePreference);
    if (lang) this.t = STRINGS[lang];
    lms.flush();
    return state;
  };

  // Whether what the learner does counts: not in a cmi5 launch whose
  // launchMode is Browse or Review (or unknown), where satisfaction-related
  // data "MUST NOT be recorded" (§10.2.2). The hub follows the same rule,
  // or its analytics would count passes and scores from browsing: it gets
  // the session (initialized, page views, terminated/suspended with its
  // duration) and no completed/passed/failed/scored, no answers, no State
  // (its bookmark and attempt-state stay as they were).
  Player.prototype.judging = function () {
    return !this.cmi5 || this.cmi5.mode === 'Normal';
  };

  // The mastery score the module is judged by: the LMS's, else the module's.
  Player.prototype.mastery = function () {
    var c = this.cmi5;
    return c && c.mastery !== null ? c.mastery : this.module.mastery_score;
  };

  // A statement to the cmi5 LMS (see connectCmi5): `kind` is 'defined'
  // (the default), 'moveon' (defined, with a result that counts for
  // moveOn), or 'allowed' (any verb and object, no cmi5 category). The
  // contextTemplate is the context's start and nothing of it is changed.
  Player.prototype.lmsSend = function (verb, result, kind, object) {
    var c = this.cmi5;
    if (!c || !c.lms || c.ended) return null;
    kind = kind || 'defined';
    if (kind === 'allowed' && c.lms.optionalRefused) return null; // the token is limited to the AU
    var context = JSON.parse(JSON.stringify(c.template));
    if (!context.registration) context.registration = this.registration;
    if (!context.language) context.language = this.lang;
    if (kind === 'allowed') addContextActivity(context, 'parent', c.launch.activityId);
    else addContextActivity(context, 'category', CMI5_CATEGORY);
    if (kind === 'moveon') addContextActivity(context, 'category', CMI5_MOVEON);
    if ((verb === 'passed' || verb === 'failed') && c.mastery !== null) {
      context.extensions = context.extensions || {};
      if (!(CMI5_MASTERY in context.extensions)) context.extensions[CMI5_MASTERY] = c.mastery;
    }
    var stmt = {
      verb: { id: VERB + verb, display: { 'en-US': verb } },
      object: object || { objectType: 'Activity', id: c.launch.activityId },
      context: context
    };
    if (result) {
      var r = {};
      Object.keys(result).forEach(function (k) { if (result[k] !== undefined) r[k] = result[k]; });
      stmt.result = r;
    }
    if (verb === 'terminated') c.ended = true;
    return c.lms.send(stmt);
  };

  // A cmi5 defined statement: one with the cmi5 category (allowed ones
  // never have it, §9.6.2.1).
  function isCmi5Defined(stmt) {
    var cat = stmt.context && stmt.context.contextActivities && stmt.context.contextActivities.category;
    return (Array.isArray(cat) ? cat : cat ? [cat] : []).some(function (a) { return a && a.id === CMI5_CATEGORY; });
  }

  // A cmi5 score: raw/min/max only when they are integers (§9.5.1).
  function cmi5Score(scaled, raw, max) {
    var score = { scaled: scaled };
    if (Number.isInteger(raw) && Number.isInteger(max)) { score.raw = raw; score.min = 0; score.max = max; }
    return score;
  }

  // What update() found, told to the cmi5 LMS (Normal mode only), and the
  // AU's own State (bookmark, suspend data, what was reported).
  Player.prototype.lmsUpdate = function (completed, success) {
    var c = this.cmi5, st = this.status, d = this.data;
    if (!c || !c.lms || c.ended || c.mode !== 'Normal') return;
    var duration = isoDuration(Date.now() - this.started);
    if (completed && !c.flags.completed) {
      c.flags.completed = true;
      this.lmsSend('completed', { completion: true, duration: duration }, 'moveon');
    }
    if (success === true && !c.flags.passed && !c.sent.judged) {
      c.flags.passed = true;
      c.sent.judged = true;
      this.lmsSend('passed', { score: cmi5Score(st.scaled, st.raw, st.max), success: true, duration: duration }, 'moveon');
    }
    c.lms.putState(c.launch.activityId, CMI5_STATE, this.registration, {
      location: d.loc || '', suspend_data: JSON.stringify(d), completed: c.flags.completed, passed: c.flags.passed
    });
    if (!c.sent.satisfied && moveOnMet(c.moveOn, c.flags)) { c.sent.satisfied = true; this.notice(this.t.satisfied); }
  };

  Player.prototype.show = function (bookmark) {
    var self = this;
    var frame = this.doc.getElementById('kmh-frame');
    var start = this.body.getAttribute('data-kmh-start') || 'index.html';
    var target = start;
    if (bookmark && /^[A-Za-z0-9._\/ -]+\.html$/.test(bookmark) && bookmark.indexOf('..') < 0) target = bookmark;
    frame.addEventListener('load', function () { self.attach(frame.contentWindow); });
    frame.src = target;
    var events = ['pagehide', 'beforeunload', 'unload'];
    events.forEach(function (e) { window.addEventListener(e, function () { self.leave(); }); });
    var c = this.cmi5;
    if (c) this.exitButton();
    if (c && c.refused) this.notice(this.t.lmsRefused.replace('{why}', c.refused));
    else if (!this.scorm && !this.xapi && !(c && c.lms)) this.notice(this.t.noLms);
    else if (!this.judging()) this.notice(c.mode === 'Review' ? this.t.review : this.t.browse);
    else if (this.resumed && target !== start) this.notice(this.t.resumed);
  };

  // The page goes away: finish, and hand what still waits to the browser.
  // The cmi5 LMS goes first, its defined statements (`terminated`) before
  // anything else: its token dies with the page and the session with
  // `terminated`, so what does not fit now never reaches it (the allowed
  // statements left in the session's queue are not sent by a later launch,
  // which has a session and token of its own; a later launch removes the
  // queue after a day). The hub's statements stay queued until they
  // arrive: a later launch of any module of the package sends the rest.
  Player.prototype.leave = function () {
    this.finish();
    if (this.handedOver) return;
    this.handedOver = true;
    var used = this.cmi5 && this.cmi5.lms ? this.cmi5.lms.lastRequests(LAST_BYTES) : 0;
    if (this.xapi) this.xapi.lastRequests(LAST_BYTES - used);
  };

  // cmi5 launches have an exit (§10.2.6): terminated, then the LMS's
  // returnURL once the statements are sent (at most 5 s), or a last word.
  Player.prototype.exitButton = function () {
    var self = this;
    var b = this.doc.createElement('button');
    b.type = 'button';
    b.className = 'kmh-exit';
    b.textContent = this.t.exit;
    b.addEventListener('click', function () { b.disabled = true; self.exit(); });
    this.body.insertBefore(b, this.body.firstChild);
  };
  Player.prototype.exit = function () {
    var self = this;
    this.finish();
    var back = this.cmi5 && this.cmi5.returnURL;
    return drain([this.xapi, this.cmi5 && this.cmi5.lms], 5000).then(function () {
      if (back) { location.assign(back); return; }
      var main = self.doc.getElementById('main');
      var p = self.doc.createElement('p');
      p.className = 'kmh-left';
      p.setAttribute('role', 'status');
      p.textContent = self.t.left;
      if (main) main.replaceChildren(p);
      var b = self.doc.querySelector('.kmh-exit');
      if (b) b.remove();
    });
  };

  Player.prototype.notice = function (text) {
    var p = this.doc.createElement('p');
    p.className = 'kmh-notice';
    p.setAttribute('role', 'status');
    p.textContent = text;
    this.body.insertBefore(p, this.body.firstChild);
    setTimeout(function () { p.remove(); }, 8000);
  };

  // Module-relative path of a page in the frame, or null if not ours.
  Player.prototype.relative = function (win) {
    var href;
    try { href = win.location.href.split('#')[0].split('?')[0]; } catch (e) { return null; }
    return href.indexOf(this.moduleDir) === 0 ? decodeURI(href.slice(this.moduleDir.length)) : null;
  };

  Player.prototype.attach = function (win) {
    var self = this;
    var doc;
    try { doc = win.document; } catch (e) { return; }
    var rel = this.relative(win);
    this.pageShown = Date.now();
    if (!this.detached && rel) {
      if (this.doc !== doc) this.doc.title = doc.title;
      var path = this.moduleId + '/' + rel;
      var index = (this.module.pages || []).indexOf(path);
      if (index >= 0 && this.data.seen.indexOf(index) < 0) this.data.seen.push(index);
      this.data.loc = rel;
      if (this.scorm) this.scorm.set(this.scorm.v2004 ? 'cmi.location' : 'cmi.core.lesson_location', rel);
      if (index >= 0) this.xapiSend('experienced', this.pageActivity(rel, doc.title), null, { parent: 'module' });
      this.update();
      // Keyboard users land on the new page's content, not the frame's top.
      var main = doc.getElementById('main');
      if (main && this.navigated) { try { main.focus({ preventScroll: true }); } catch (e) { /* ignore */ } }
      this.navigated = true;
    }
    var form = doc.getElementById('kmh-quiz-form');
    var modelEl = doc.getElementById('kmh-quiz');
    if (form && modelEl) {
      var model;
      try { model = JSON.parse(modelEl.textContent); } catch (e) { model = null; }
      if (model && model.version === 1) this.quiz(doc, form, model, rel || model.id);
    }
  };

  Player.prototype.quiz = function (doc, form, model, rel) {
    var self = this, t = this.t;
    var key = rel;
    var qs = this.data.quiz[key] || { n: 0 };
    var button = form.querySelector('button[type="submit"]');
    var result = form.querySelector('.kmh-result');
    var firstTouch = {};
    var shown = Date.now();
    form.addEventListener('focusin', function (e) {
      var fs = e.target.closest && e.target.closest('fieldset[data-question]');
      if (fs && !firstTouch[fs.dataset.question]) firstTouch[fs.dataset.question] = Date.now();
    });
    function left() { return model.attempts === 0 ? Infinity : model.attempts - qs.n; }
    function lock() {
      Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
    }
    function summary(last) {
      var parts = [];
      if (model.scored && last && last.scaled !== null) {
        parts.push(t.score.replace('{n}', Math.round(last.scaled * 100)));
        if (model.pass !== null) parts.push(last.passed ? t.passed : t.failed);
      } else if (!model.scored && qs.n > 0) parts.push(t.thanks);
      if (left() !== Infinity && qs.n > 0) parts.push(left() > 0 && !(last && last.passed) ? t.attemptsLeft.replace('{n}', left()) : (left() > 0 ? '' : t.noAttempts));
      result.textContent = parts.filter(Boolean).join(' · ');
    }
    // The LMS's masteryScore replaces the module's as a quiz's pass mark
    // when the quiz has none of its own, so the learner sees the verdict
    // the LMS gets.
    var mastery = this.mastery();
    if (model.scored && model.pass === this.module.mastery_score && mastery !== undefined && mastery !== null) model.pass = mastery;
    if (model.shuffle) {
      // Same order for the same attempt; values (choice ids) are unchanged,
      // so scoring and the reported responses do not depend on it.
      var seed = (this.registration || uuid()) + '|' + model.id + '|';
      model.questions.forEach(function (q) {
        var fs = doc.getElementById(q.name);
        if (!fs) return;
        if (q.type === 'single' || q.type === 'multiple') shuffleNodes(fs.querySelectorAll('.kmh-choice'), seeded(seed + q.id));
        if (q.type === 'matching') {
          Array.prototype.forEach.call(fs.querySelectorAll('select'), function (sel) {
            shuffleNodes(Array.prototype.filter.call(sel.options, function (o) { return o.value !== ''; }), seeded(seed + q.id));
          });
        }
      });
      form.setAttribute('data-kmh-shuffled', 'true');
    }
    if (this.cmi5 && this.cmi5.mode === 'Review') {
      // Review is for revisiting completed material (§10.2.2): the quiz
      // shows the result kept in the AU's State and takes no new attempt.
      summary(qs.last);
      if (!qs.n) result.textContent = t.reviewNoAttempt;
      lock();
      if (button) button.hidden = true;
      form.setAttribute('data-kmh-review', 'true');
      return;
    }
    if (button) button.hidden = false;
    if (qs.n > 0) summary(qs.last);
    if (left() <= 0 || (!model.scored && qs.n > 0)) { lock(); }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (left() <= 0) return;
      var results = model.questions.map(function (q) { return evaluate(q, form, model); });
      var missing = results.filter(function (r) { return !r.answered && r.q.type !== 'text'; });
      if (missing.length) {
        result.textContent = t.answerAll;
        var first = doc.getElementById(missing[0].q.name);
        if (first) { var input = first.querySelector('input,select,textarea'); if (input) input.focus(); }
        return;
      }
      var now = Date.now();
      var raw = 0, max = 0;
      results.forEach(function (r) {
        r.latency = now - (firstTouch[r.q.id] || shown);
        if (r.q.scored) { max += r.q.weight; if (r.correct) raw += r.q.weight; }
        var fb = doc.querySelector('#' + CSS.escape(r.q.name) + ' .kmh-feedback');
        if (fb) {
          var lines = [];
          if (r.correct === true) lines.push(r.q.correct_feedback || t.correct);
          if (r.correct === false) lines.push(r.q.incorrect_feedback || t.incorrect);
          fb.textContent = lines.concat(r.feedback).join(' ');
          fb.className = 'kmh-feedback' + (r.correct === true ? ' kmh-correct' : r.correct === false ? ' kmh-incorrect' : '');
        }
      });
      var scaled = model.scored && max > 0 ? round4(raw / max) : null;
      var passed = scaled !== null && model.pass !== null ? scaled >= model.pass - 1e-9 : null;
      qs.n += 1;
      qs.last = { raw: raw, max: max, scaled: scaled, passed: passed };
      if (scaled !== null && (!qs.best || scaled > qs.best.scaled)) qs.best = qs.last;
      self.data.quiz[key] = qs;
      self.submitted(model, rel, results, qs, doc.title);
      summary(qs.last);
      if (left() <= 0 || passed || !model.scored) lock();
    });
  };

  Player.prototype.submitted = function (model, rel, results, qs) {
    var self = this;
    // cmi5 Browse or Review: the learner saw their score; nobody records it.
    if (!this.judging()) return;
    var s = this.scorm;
    var quizActivity = this.pageActivity(rel, model.title);
    results.forEach(function (r) {
      var q = r.q;
      if (s) {
        var n = parseInt(s.get('cmi.interactions._count'), 10) || 0;
        var p = 'cmi.interactions.' + n + '.';
        var v = s.v2004;
        s.set(p + 'id', v ? self.module.activity_id + '/' + rel.replace(/\.html$/, '') + '/' + q.id : (model.id + '-' + q.id).slice(0, 255));
        s.set(p + 'type', interactionType(q, v));
        if (q.objective) s.set(p + 'objectives.0.id', q.objective);
        if (v) s.set(p + 'timestamp', new Date(Date.now() - r.latency).toISOString().replace(/Z$/, ''));
        else s.set(p + 'time', cmiTime(new Date(Date.now() - r.latency)));
        var pattern = correctPattern(q, v ? '2004' : '12');
        if (pattern !== null && q.scored) s.set(p + 'correct_responses.0.pattern', pattern);
        s.set(p + 'weighting', q.weight);
        s.set(p + (v ? 'learner_response' : 'student_response'), v ? r.scorm2004 : r.scorm12);
        s.set(p + 'result', r.correct === null ? 'neutral' : r.correct ? 'correct' : (v ? 'incorrect' : 'wrong'));
        s.set(p + 'latency', v ? isoDuration(r.latency) : cmiTimespan(r.latency));
        if (v) s.set(p + 'description', q.prompt.slice(0, 250));
      }
      var answer = {
        response: r.xapi,
        success: r.correct === null ? undefined : r.correct,
        duration: isoDuration(r.latency)
      };
      self.xapiSend('answered', self.interactionActivity(rel, q), answer, { parent: quizActivity });
      if (self.cmi5 && self.cmi5.mode === 'Normal') self.lmsSend('answered', answer, 'allowed', self.interactionActivity(rel, q));
    });
    if (model.scored && this.cmi5) this.cmi5.sent.attempted = true;
    if (model.scored && qs.last.scaled !== null) {
      this.xapiSend('scored', quizActivity, {
        score: { raw: qs.last.raw, min: 0, max: qs.last.max, scaled: qs.last.scaled },
        success: qs.last.passed === null ? undefined : qs.last.passed
      }, { parent: 'module' });
    }
    this.objectives(results);
    this.update();
  };

  // Objective status from the questions about it, in this attempt.
  Player.prototype.objectives = function (results) {
    var s = this.scorm, self = this;
    var objs = this.module.objectives || [];
    var acc = this.data.obj = this.data.obj || {};
    results.forEach(function (r) {
      if (!r.q.objective || !r.q.scored) return;
      var o = acc[r.q.objective] = acc[r.q.objective] || {};
      o[r.q.id] = r.correct ? r.q.weight : 0;
      o['max-' + r.q.id] = r.q.weight;
    });
    objs.forEach(function (o, i) {
      var a = acc[o.id];
      if (!a || !s) return;
      var raw = 0, max = 0;
      Object.keys(a).forEach(function (k) { if (k.indexOf('max-') === 0) max += a[k]; else raw += a[k]; });
      var scaled = max ? round4(raw / max) : 0;
      var mastery = self.mastery();
      var passed = mastery === undefined || mastery === null ? null : scaled >= mastery - 1e-9;
      var p = 'cmi.objectives.' + i + '.';
      s.set(p + 'id', o.id);
      if (s.v2004) {
        s.set(p + 'score.scaled', scaled);
        s.set(p + 'score.raw', raw); s.set(p + 'score.min', 0); s.set(p + 'score.max', max);
        s.set(p + 'completion_status', 'completed');
        if (passed !== null) s.set(p + 'success_status', passed ? 'passed' : 'failed');
      } else {
        s.set(p + 'score.raw', Math.round(scaled * 100)); s.set(p + 'score.min', 0); s.set(p + 'score.max', 100);
        s.set(p + 'status', passed === null ? 'completed' : passed ? 'passed' : 'failed');
      }
    });
  };

  // Completion, score and success of the module; tells the LMS and the LRS
  // what changed, saves the bookmark and commits.
  Player.prototype.update = function () {
    if (this.detached || !this.judging()) return;
    var m = this.module, d = this.data, st = this.status, self = this;
    var pages = m.pages || [];
    var quizzes = m.quizzes || [];
    var pagesDone = pages.every(function (p, i) { return d.seen.indexOf(i) >= 0; });
    var quizDone = quizzes.every(function (q) { return d.quiz[q.page.slice(m.id.length + 1)] && d.quiz[q.page.slice(m.id.length + 1)].n > 0; });
    var completed = m.completion === 'pages' ? pagesDone : m.completion === 'quiz' ? quizDone : pagesDone && quizDone;
    var scored = quizzes.filter(function (q) { return q.scored; });
    var raw = 0, max = 0, all = scored.length > 0, exhausted = true;
    scored.forEach(function (q) {
      var qs = d.quiz[q.page.slice(m.id.length + 1)];
      if (!qs || !qs.best) { all = false; return; }
      raw += qs.best.raw; max += qs.best.max;
    });
    var scaled = all && max > 0 ? round4(raw / max) : null;
    var mastery = this.mastery();
    var success = scaled !== null && mastery !== undefined && mastery !== null ? scaled >= mastery - 1e-9 : null;
    void exhausted;
    var s = this.scorm;
    if (completed && !st.completed) { st.completed = true; this.xapiSend('completed', this.moduleActivity(), { completion: true }, { parent: 'course' }); }
    var scoreChanged = scaled !== null && scaled !== st.scaled;
    if (scoreChanged) {
      st.scaled = scaled; st.raw = raw; st.max = max;
    }
    if (success !== null && success !== st.success) {
      st.success = success;
      this.xapiSend(success ? 'passed' : 'failed', this.moduleActivity(), {
        score: { raw: raw, min: 0, max: max, scaled: scaled }, success: success, completion: st.completed
      }, { parent: 'course' });
    } else if (scoreChanged) {
      // The module's weighted score (best attempt of each scored quiz),
      // also for modules without a pass mark (a pre-assessment): the LRS's
      // analytics take the module score from here, not from its answers.
      this.xapiSend('scored', this.moduleActivity(), {
        score: { raw: raw, min: 0, max: max, scaled: scaled }
      }, { parent: 'course' });
    }
    if (s) {
      if (s.v2004) {
        s.set('cmi.completion_status', st.completed ? 'completed' : 'incomplete');
        if (st.scaled !== null) {
          s.set('cmi.score.raw', st.raw); s.set('cmi.score.min', 0); s.set('cmi.score.max', st.max); s.set('cmi.score.scaled', st.scaled);
        }
        if (st.success !== null) s.set('cmi.success_status', st.success ? 'passed' : 'failed');
        s.set('cmi.progress_measure', pages.length ? round4(d.seen.length / pages.length) : 0);
      } else {
        if (st.scaled !== null) {
          s.set('cmi.core.score.raw', Math.round(st.scaled * 100)); s.set('cmi.core.score.min', 0); s.set('cmi.core.score.max', 100);
        }
        s.set('cmi.core.lesson_status', st.success !== null ? (st.success ? 'passed' : 'failed') : st.completed ? 'completed' : 'incomplete');
      }
      s.set('cmi.suspend_data', JSON.stringify(d));
      s.commit();
    }
    if (this.xapi) {
      var bookmark = { location: d.loc || '', suspend_data: JSON.stringify(d) };
      this.xapi.putState(m.activity_id, 'urn:kmh:state:bookmark', null, bookmark);
      this.xapi.putState(m.activity_id, 'https://w3id.org/xapi/scorm/attempt-state', this.registration, {
        location: d.loc || '', suspend_data: JSON.stringify(d),
        completion_status: st.completed ? 'completed' : 'incomplete',
        success_status: st.success === null ? 'unknown' : st.success ? 'passed' : 'failed',
        score: st.scaled === null ? null : { scaled: st.scaled, raw: st.raw, min: 0, max: st.max }
      });
    }
    this.lmsUpdate(completed, success);
    void self;
  };

  // The learner leaves: session time, exit mode, suspend or terminate;
  // then the API is never called again.
  Player.prototype.finish = function () {
    if (this.finished || this.detached) return;
    this.finished = true;
    var ms = Date.now() - this.started;
    var st = this.status;
    var done = st.completed && st.success !== false;
    var s = this.scorm;
    if (s) {
      if (s.v2004) {
        s.set('cmi.session_time', isoDuration(ms));
        s.set('cmi.exit', done ? 'normal' : 'suspend');
      } else {
        s.set('cmi.core.session_time', cmiTimespan(ms));
        s.set('cmi.core.exit', done ? '' : 'suspend');
      }
      s.set('cmi.suspend_data', JSON.stringify(this.data));
      s.commit();
      s.finish();
    }
    var c = this.cmi5;
    if (c && c.lms && !c.ended) {
      if (c.mode === 'Normal' && c.sent.attempted && !c.sent.judged && !c.flags.passed && st.success === false) {
        c.sent.judged = true;
        this.lmsSend('failed', { score: cmi5Score(st.scaled, st.raw, st.max), success: false, duration: isoDuration(ms) }, 'moveon');
      }
      this.lmsSend('terminated', { duration: isoDuration(ms) });
    }
    this.xapiSend(done ? 'terminated' : 'suspended', this.moduleActivity(), { duration: isoDuration(ms) }, { parent: 'course' });
  };

  // ------------------------------------------------------------ statements

  Player.prototype.moduleActivity = function () {
    var m = this.module;
    var def = { type: ACT + 'lesson', name: {} };
    def.name[this.lang] = m.title || m.id;
    return { objectType: 'Activity', id: m.activity_id, definition: def };
  };
  Player.prototype.pageActivity = function (rel, title) {
    var def = { type: ACT + 'module', name: {} };
    def.name[this.lang] = title || rel;
    return { objectType: 'Activity', id: this.module.activity_id + '/' + encodeURI(rel.replace(/\.html$/, '')), definition: def };
  };
  Player.prototype.interactionActivity = function (rel, q) {
    var lang = this.lang;
    function ls(text) { var o = {}; o[lang] = text; return o; }
    var def = {
      type: 'http://adlnet.gov/expapi/activities/cmi.interaction',
      name: ls(q.prompt.slice(0, 120)), description: ls(q.prompt),
      interactionType: interactionType(q, true)
    };
    var pattern = correctPattern(q, 'xapi');
    if (pattern !== null && q.scored) def.correctResponsesPattern = [pattern];
    if (q.choices && q.choices.length) def.choices = q.choices.map(function (c) { return { id: c.id, description: ls(c.text) }; });
    if (q.type === 'matching') {
      def.source = q.pairs.map(function (p) { return { id: p.id, description: ls(p.left) }; });
      def.target = q.options.map(function (o, i) { return { id: 'o' + (i + 1), description: ls(o) }; });
    }
    if (q.type === 'likert' && q.scale) {
      def.scale = q.scale.labels.map(function (l, i) { return { id: String(q.scale.min + i), description: ls(l) }; });
    }
    if (q.tag) { def.extensions = {}; def.extensions[EXT_TAG] = q.tag; }
    return { objectType: 'Activity', id: this.module.activity_id + '/' + encodeURI(rel.replace(/\.html$/, '')) + '/' + q.id, definition: def };
  };

  Player.prototype.xapiSend = function (verb, object, result, where) {
    if (!this.xapi) return null;
    var module = this.moduleActivity();
    var course = this.config.course;
    var grouping = [{ objectType: 'Activity', id: this.module.activity_id + '/attempt/' + this.registration, definition: { type: ACT + 'attempt' } }];
    if (course && course.iri) {
      var cdef = { type: ACT + 'course' };
      if (course.title) { cdef.name = {}; cdef.name[this.lang] = course.title; }
      grouping.push({ objectType: 'Activity', id: course.iri, definition: cdef });
    }
    var parent;
    if (where.parent === 'module') parent = [module];
    else if (where.parent === 'course') parent = course && course.iri ? [{ objectType: 'Activity', id: course.iri }] : undefined;
    else parent = [where.parent];
    if (where.parent !== 'module' && where.parent !== 'course') grouping.unshift(module);
    var stmt = {
      verb: { id: VERB + verb, display: { 'en-US': verb } },
      object: object,
      context: {
        registration: this.registration,
        language: this.lang,
        contextActivities: { grouping: grouping, category: [{ objectType: 'Activity', id: SCORM_PROFILE, definition: { type: ACT + 'profile' } }] }
      }
    };
    if (parent) stmt.context.contextActivities.parent = parent;
    if (this.learnerContext && Object.keys(this.learnerContext).length) stmt.context.extensions = this.learnerContext;
    if (result) {
      var r = {};
      Object.keys(result).forEach(function (k) { if (result[k] !== undefined) r[k] = result[k]; });
      stmt.result = r;
    }
    return this.xapi.send(stmt);
  };

  // ------------------------------------------------------------ boot

  function boot() {
    var body = document.body;
    if (!body) return;
    if (body.classList.contains('kmh-launch')) {
      var player = new Player(document, false);
      window.kmhPlayer = player;
      player.start();
      return;
    }
    // Inside the player's frame the player attaches to this page on load.
    try { if (window.parent !== window && window.parent.kmhPlayer) return; } catch (e) { /* cross-origin parent */ }
    var local = new Player(document, true);
    local.start().then(function () { local.attach(window); });
  }
  boot();
})();
