/*
 * kmh dashboard. Reads the indicators from /analytics/... and draws every
 * chart itself as inline SVG: no library, no CDN.
 *
 * Signing in is the browser's: the server answers /dashboard with an HTTP
 * Basic challenge, and the browser then sends the credential with this
 * page's own requests. The page never sees, stores or puts the secret in a
 * URL. "Sign out" opens /dashboard/signout, whose 401 makes the browser
 * forget it.
 */
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = {
  started: "#93c5fd",
  completed: "#1d4ed8",
  stopped: "#b91c1c",
  pre: "#f59e0b",
  post: "#059669",
  enrolled: "#64748b",
  done: "#7c3aed",
  doneArea: "#c4b5fd",
  likert: ["#b91c1c", "#f87171", "#d1d5db", "#34d399", "#047857"],
};

const STRINGS = {
  en: {
    title: "Training dashboard", signout: "Sign out", signinTitle: "Sign in again",
    signinHelp: "Reload the page and sign in with a credential that has the analytics/read scope (or statements/read). Learners are shown by pseudonym unless it also has the identities scope.",
    course: "Course", module: "Module",
    cohort: "Cohort", country: "Country", language: "Language", from: "Enrolled from", to: "to",
    reset: "Reset", export: "Export CSV", all: "All", allModules: "Whole course",
    funnel: "Progress through the modules",
    funnelHelp: "Learners who started and completed each module; the red mark counts learners who have not finished and stopped there.",
    prepost: "Pre- and post-assessment", overTime: "Enrolments and completions over time",
    overTimeHelp: "Cumulative learners who enrolled and who completed the course.",
    satisfaction: "Satisfaction", modules: "Modules", questions: "Question difficulty",
    comments: "Comments from the satisfaction survey", commentsHelp: "Shown without learner ids.",
    learners: "Learners", search: "Search (pseudonym, or name with the identities scope)", find: "Find",
    prev: "Previous", next: "Next", learner: "Learner",
    enrolled: "Enrolled", started: "Started", completed: "Completed", passed: "Passed",
    medianDays: "Median days to complete", gain: "Mean gain, pre → post",
    improved: "improved", ofEnrolled: "of enrolled", pairs: "learners with both scores",
    pre: "Pre", post: "Post", overall: "Overall", knowledge: "Knowledge", skills: "Skills", attitude: "Attitude",
    failed: "Failed", stoppedHere: "Stopped here", meanScore: "Mean score", medianMinutes: "Median minutes",
    question: "Question", tag: "Part", answered: "Learners", attempts: "Attempts", correct: "Correct",
    respondents: "respondents", mean: "mean", noData: "No data for these filters yet.",
    status: "Status", first: "First", last: "Last", minutes: "Minutes", best: "Best", latest: "Latest",
    page: "Page", modulesDone: "Modules done", id: "Id", identity: "Identity", name: "Name",
    loading: "Loading…", updated: "Updated", badCredential: "Your credential is no longer accepted.",
    forbidden: "This credential may not read analytics.", learnersFound: "learners",
    prepostHelp: "Mean scores of learners who took both assessments ({pairs}); {improved} improved.",
    satisfactionHelp: "{n} respondents. Share of answers per scale point.",
    notStarted: "not started", inProgress: "in progress",
    allQuestions: "Show all {n} questions", fewer: "Show the 12 hardest",
    questionsHelp: "Hardest first: share of correct answers among all answers.",
  },
  fr: {
    title: "Tableau de bord de la formation", signout: "Se déconnecter", signinTitle: "Se reconnecter",
    signinHelp: "Rechargez la page et connectez-vous avec un identifiant ayant la portée analytics/read (ou statements/read). Les apprenants sont présentés sous pseudonyme, sauf si l'identifiant a aussi la portée identities.",
    course: "Formation", module: "Module",
    cohort: "Cohorte", country: "Pays", language: "Langue", from: "Inscrits du", to: "au",
    reset: "Réinitialiser", export: "Exporter en CSV", all: "Tous", allModules: "Toute la formation",
    funnel: "Progression dans les modules",
    funnelHelp: "Apprenants ayant commencé et terminé chaque module ; la marque rouge compte ceux qui n'ont pas fini et se sont arrêtés là.",
    prepost: "Évaluations initiale et finale", overTime: "Inscriptions et achèvements dans le temps",
    overTimeHelp: "Nombre cumulé d'apprenants inscrits et ayant terminé la formation.",
    satisfaction: "Satisfaction", modules: "Modules", questions: "Difficulté des questions",
    comments: "Commentaires de l'enquête de satisfaction", commentsHelp: "Présentés sans identifiant d'apprenant.",
    learners: "Apprenants", search: "Rechercher (pseudonyme, ou nom avec la portée identities)", find: "Chercher",
    prev: "Précédent", next: "Suivant", learner: "Apprenant",
    enrolled: "Inscrits", started: "Ont commencé", completed: "Ont terminé", passed: "Ont réussi",
    medianDays: "Jours médians pour terminer", gain: "Gain moyen, initiale → finale",
    improved: "ont progressé", ofEnrolled: "des inscrits", pairs: "apprenants ayant les deux scores",
    pre: "Initiale", post: "Finale", overall: "Global", knowledge: "Connaissances", skills: "Compétences", attitude: "Attitudes",
    failed: "Échoué", stoppedHere: "Arrêtés ici", meanScore: "Score moyen", medianMinutes: "Minutes médianes",
    question: "Question", tag: "Partie", answered: "Apprenants", attempts: "Tentatives", correct: "Correct",
    respondents: "répondants", mean: "moyenne", noData: "Pas encore de données pour ces filtres.",
    status: "Statut", first: "Début", last: "Dernière activité", minutes: "Minutes", best: "Meilleur", latest: "Dernier",
    page: "Page", modulesDone: "Modules terminés", id: "Id", identity: "Identité", name: "Nom",
    loading: "Chargement…", updated: "Mis à jour", badCredential: "Votre identifiant n'est plus accepté.",
    forbidden: "Cet identifiant ne peut pas lire les analyses.", learnersFound: "apprenants",
    prepostHelp: "Scores moyens des apprenants ayant passé les deux évaluations ({pairs}) ; {improved} ont progressé.",
    satisfactionHelp: "{n} répondants. Part des réponses par point de l'échelle.",
    notStarted: "non commencé", inProgress: "en cours",
    allQuestions: "Afficher les {n} questions", fewer: "Afficher les 12 plus difficiles",
    questionsHelp: "Les plus difficiles d'abord : part de réponses correctes parmi toutes les réponses.",
  },
};

const state = {
  lang: localStorage.getItem("kmh.lang") || ((navigator.language || "en").slice(0, 2) === "fr" ? "fr" : "en"),
  started: false,
  overview: null,
  offset: 0,
  limit: 25,
  total: 0,
  allQuestions: false,
};

const $ = (id) => document.getElementById(id);
const t = (k) => (STRINGS[state.lang] && STRINGS[state.lang][k]) || STRINGS.en[k] || k;
const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? "" : vars[k]));
const nf = () => new Intl.NumberFormat(state.lang);
const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
const num = (x, d = 0) => (x === null || x === undefined ? "–" : nf().format(Number(x.toFixed(d))));
const pts = (x) => (x === null || x === undefined ? "–" : `${x >= 0 ? "+" : "−"}${Math.abs(Math.round(x * 100))} pts`);

function el(tag, attrs = {}, children = []) {
  const isSvg = ["svg", "g", "rect", "line", "polyline", "polygon", "path", "text", "title", "circle"].includes(tag);
  const node = isSvg ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.setAttribute("class", v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of [].concat(children)) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function empty(container) {
  clear(container).append(el("p", { class: "empty", text: t("noData") }));
}

function truncate(s, n) {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// ---------------------------------------------------------------- i18n

function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  $("lang-en").setAttribute("aria-pressed", String(state.lang === "en"));
  $("lang-fr").setAttribute("aria-pressed", String(state.lang === "fr"));
  document.title = `kmh · ${t("title")}`;
}

function setLanguage(lang) {
  state.lang = lang;
  localStorage.setItem("kmh.lang", lang);
  applyLanguage();
  if (state.started) refresh();
}

// ---------------------------------------------------------------- API

function filterParams() {
  const p = new URLSearchParams();
  const pairs = [["course", "f-course"], ["module", "f-module"], ["cohort", "f-cohort"], ["country", "f-country"],
    ["language", "f-language"], ["from", "f-from"], ["to", "f-to"]];
  for (const [name, id] of pairs) {
    const v = $(id).value;
    if (v) p.set(name, v);
  }
  p.set("lang", state.lang);
  return p;
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, params, as = "json") {
  // The origin never carries user:password, so neither does the request URL.
  const url = new URL(`${path}?${params.toString()}`, location.origin);
  const r = await fetch(url, { credentials: "same-origin", headers: { Accept: as === "json" ? "application/json" : "text/csv" } });
  if (!r.ok) {
    let msg = `${r.status}`;
    try { msg = (await r.json()).error || msg; } catch (_) { /* not JSON */ }
    throw new HttpError(r.status, msg);
  }
  return as === "json" ? r.json() : r.blob();
}

// ---------------------------------------------------------------- sign-in

// The credential the browser holds was refused (revoked, or lacking the
// scope): say so; reloading lets the browser ask again.
function refused(message) {
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
}

function signedIn() {
  state.started = true;
  $("signin").hidden = true;
  $("app").hidden = false;
  refresh();
}

// ---------------------------------------------------------------- filters

function setOptions(select, items, allLabel, current) {
  clear(select);
  select.append(el("option", { value: "", text: allLabel }));
  for (const it of items) {
    select.append(el("option", { value: it.value, text: it.label }));
  }
  select.value = items.some((i) => i.value === current) ? current : "";
}

function updateFilters(o) {
  const opts = o.options;
  setOptions($("f-course"), opts.courses.map((c) => ({ value: c.id, label: `${c.title} (${c.learners})` })),
    t("all"), (o.course && o.course.id) || "");
  if ($("f-course").options.length > 1 && o.course) $("f-course").value = o.course.id;
  setOptions($("f-module"), opts.modules.map((m) => ({ value: m.id, label: truncate(`${m.id} · ${m.title}`, 60) })),
    t("allModules"), o.filter.module || "");
  const counted = (list) => list.map((c) => ({ value: c.value, label: `${c.value} (${c.learners})` }));
  setOptions($("f-cohort"), counted(opts.cohorts), t("all"), o.filter.cohort || "");
  setOptions($("f-country"), counted(opts.countries), t("all"), o.filter.country || "");
  setOptions($("f-language"), counted(opts.languages), t("all"), o.filter.language || "");
}

// ---------------------------------------------------------------- render

function kpi(label, value, sub) {
  return el("div", { class: "kpi" }, [el("div", { class: "v", text: value }), el("div", { class: "l", text: label }),
    sub ? el("div", { class: "s", text: sub }) : null]);
}

function renderKpis(o) {
  const s = o.summary;
  const a = o.assessment;
  clear($("kpis")).append(
    kpi(t("enrolled"), num(s.enrolled)),
    kpi(t("started"), num(s.started), s.enrolled ? `${pct(s.started / s.enrolled)} ${t("ofEnrolled")}` : null),
    kpi(t("completed"), num(s.completed), `${pct(s.completion_rate)} ${t("ofEnrolled")}`),
    kpi(t("passed"), num(s.passed), `${pct(s.pass_rate)} ${t("ofEnrolled")}`),
    kpi(t("medianDays"), num(s.median_days_to_complete, 1)),
    kpi(t("gain"), pts(a.gain_mean), a.pairs ? `${num(a.pairs)} ${t("pairs")} · ${pct(a.improved_share)} ${t("improved")}` : null),
  );
}

function svg(width, height, label) {
  return el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, width, height });
}

function drawFunnel(o) {
  const box = $("chart-funnel");
  const rows = o.funnel;
  if (!rows.length || !o.summary.enrolled) return empty(box);
  const W = 640, left = 200, right = 70, rowH = 26, top = 8;
  const H = top + rows.length * rowH + 24;
  const max = Math.max(1, o.summary.enrolled, ...rows.map((r) => r.started));
  const x = (v) => left + (v / max) * (W - left - right);
  const s = svg(W, H, t("funnel"));
  for (let i = 0; i <= 4; i++) {
    const gx = left + (i / 4) * (W - left - right);
    s.append(el("line", { x1: gx, x2: gx, y1: top, y2: H - 20, class: "grid-line" }));
    s.append(el("text", { x: gx, y: H - 6, "text-anchor": "middle", text: num((max * i) / 4) }));
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    s.append(el("text", { x: left - 6, y: y + 16, "text-anchor": "end" }, [truncate(r.module, 28), el("title", { text: r.title })]));
    s.append(el("rect", { x: left, y: y + 3, width: Math.max(0, x(r.started) - left), height: rowH - 8, fill: COLORS.started },
      [el("title", { text: `${r.title}: ${t("started")} ${r.started}` })]));
    s.append(el("rect", { x: left, y: y + 7, width: Math.max(0, x(r.completed) - left), height: rowH - 16, fill: COLORS.completed },
      [el("title", { text: `${r.title}: ${t("completed")} ${r.completed}` })]));
    if (r.stopped_here > 0) {
      s.append(el("circle", { cx: x(r.started) + 8, cy: y + rowH / 2 + 1, r: 4, fill: COLORS.stopped },
        [el("title", { text: `${t("stoppedHere")}: ${r.stopped_here}` })]));
    }
    s.append(el("text", { x: x(r.started) + 16, y: y + 16, text: `${r.completed}/${r.started}` }));
  });
  clear(box).append(s);
}

function drawPrePost(o) {
  const box = $("chart-prepost");
  const a = o.assessment;
  $("prepost-help").textContent = a.pairs
    ? fill(t("prepostHelp"), { pairs: num(a.pairs), improved: pct(a.improved_share) }) : "";
  if (!a.pairs) return empty(box);
  const groups = [{ label: t("overall"), pre: a.pre_mean, post: a.post_mean, gain: a.gain_mean }]
    .concat(a.by_tag.map((r) => ({ label: t(r.tag), pre: r.pre_mean, post: r.post_mean, gain: r.gain_mean })));
  const W = 640, H = 260, left = 40, bottom = 40, top = 24;
  const plotH = H - top - bottom;
  const gw = (W - left - 10) / groups.length;
  const bw = Math.min(48, gw / 3);
  const y = (v) => top + plotH - v * plotH;
  const s = svg(W, H, t("prepost"));
  for (let i = 0; i <= 4; i++) {
    const v = i / 4;
    s.append(el("line", { x1: left, x2: W - 10, y1: y(v), y2: y(v), class: "grid-line" }));
    s.append(el("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", text: `${i * 25}%` }));
  }
  groups.forEach((g, i) => {
    const cx = left + gw * i + gw / 2;
    const bars = [[g.pre, COLORS.pre, t("pre"), cx - bw - 2], [g.post, COLORS.post, t("post"), cx + 2]];
    for (const [v, color, name, bx] of bars) {
      const val = Math.max(0, Math.min(1, v || 0));
      s.append(el("rect", { x: bx, y: y(val), width: bw, height: Math.max(0, y(0) - y(val)), fill: color },
        [el("title", { text: `${g.label}, ${name}: ${pct(v)}` })]));
      s.append(el("text", { x: bx + bw / 2, y: y(val) - 4, "text-anchor": "middle", text: pct(v) }));
    }
    s.append(el("text", { x: cx, y: H - bottom + 16, "text-anchor": "middle", text: g.label }));
    s.append(el("text", { x: cx, y: H - bottom + 31, "text-anchor": "middle", text: pts(g.gain) }));
  });
  s.append(el("rect", { x: W - 150, y: 4, width: 10, height: 10, fill: COLORS.pre }));
  s.append(el("text", { x: W - 136, y: 13, text: t("pre") }));
  s.append(el("rect", { x: W - 80, y: 4, width: 10, height: 10, fill: COLORS.post }));
  s.append(el("text", { x: W - 66, y: 13, text: t("post") }));
  clear(box).append(s);
}

function drawTime(o) {
  const box = $("chart-time");
  const p = o.over_time.points;
  if (!p.length) return empty(box);
  const W = 640, H = 240, left = 44, right = 12, top = 16, bottom = 36;
  const max = Math.max(1, ...p.map((q) => q.cumulative_started));
  const x = (i) => left + (p.length === 1 ? (W - left - right) / 2 : (i / (p.length - 1)) * (W - left - right));
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const s = svg(W, H, t("overTime"));
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    s.append(el("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid-line" }));
    s.append(el("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", text: num(v) }));
  }
  const line = (key) => p.map((q, i) => `${x(i).toFixed(1)},${y(q[key]).toFixed(1)}`).join(" ");
  const area = `${x(0).toFixed(1)},${y(0)} ${line("cumulative_completed")} ${x(p.length - 1).toFixed(1)},${y(0)}`;
  s.append(el("polygon", { points: area, fill: COLORS.doneArea }));
  s.append(el("polyline", { points: line("cumulative_started"), fill: "none", stroke: COLORS.enrolled, "stroke-width": 2.5 }));
  s.append(el("polyline", { points: line("cumulative_completed"), fill: "none", stroke: COLORS.done, "stroke-width": 2.5 }));
  const every = Math.max(1, Math.ceil(p.length / 8));
  const monthly = o.over_time.unit === "month";
  p.forEach((q, i) => {
    // Every n-th bucket is labelled (weeks by day, months by year-month).
    if (i % every === 0) {
      s.append(el("text", { x: x(i), y: H - bottom + 16, "text-anchor": "middle",
        text: monthly ? q.start.slice(0, 7) : q.start.slice(5) }));
    }
    s.append(el("circle", { cx: x(i), cy: y(q.cumulative_completed), r: 2.5, fill: COLORS.done },
      [el("title", { text: `${q.start}: ${t("enrolled")} ${q.cumulative_started}, ${t("completed")} ${q.cumulative_completed}` })]));
  });
  s.append(el("rect", { x: left + 8, y: top, width: 10, height: 10, fill: COLORS.enrolled }));
  s.append(el("text", { x: left + 22, y: top + 9, text: t("enrolled") }));
  s.append(el("rect", { x: left + 108, y: top, width: 10, height: 10, fill: COLORS.done }));
  s.append(el("text", { x: left + 122, y: top + 9, text: t("completed") }));
  clear(box).append(s);
}

function drawSatisfaction(o) {
  const box = $("chart-satisfaction");
  const sat = o.satisfaction;
  $("satisfaction-help").textContent = sat.respondents ? fill(t("satisfactionHelp"), { n: num(sat.respondents) }) : "";
  const qs = sat.questions.filter((q) => q.responses > 0);
  if (!qs.length) return empty(box);
  const W = 640, left = 230, right = 56, rowH = 24, top = 26;
  const H = top + qs.length * rowH + 8;
  const s = svg(W, H, t("satisfaction"));
  const palette = (n) => (n === 5 ? COLORS.likert : Array.from({ length: n }, (_, i) => COLORS.likert[Math.round((i / Math.max(1, n - 1)) * 4)]));
  const labels = qs[0].labels;
  let lx = left;
  palette(labels.length).forEach((c, i) => {
    s.append(el("rect", { x: lx, y: 4, width: 10, height: 10, fill: c }));
    const label = truncate(labels[i], 16);
    s.append(el("text", { x: lx + 13, y: 13, text: label }));
    lx += 24 + label.length * 5.5;
  });
  qs.forEach((q, i) => {
    const y = top + i * rowH;
    const colors = palette(q.counts.length);
    s.append(el("text", { x: left - 6, y: y + 15, "text-anchor": "end" }, [truncate(q.title, 36), el("title", { text: q.title })]));
    let bx = left;
    const total = q.counts.reduce((a, b) => a + b, 0) || 1;
    q.counts.forEach((c, j) => {
      const w = (c / total) * (W - left - right);
      if (w > 0) {
        s.append(el("rect", { x: bx, y: y + 3, width: w, height: rowH - 7, fill: colors[j] },
          [el("title", { text: `${q.labels[j]}: ${c} (${pct(c / total)})` })]));
      }
      bx += w;
    });
    s.append(el("text", { x: W - right + 6, y: y + 15, text: q.mean === null ? "–" : num(q.mean, 1) }));
  });
  clear(box).append(s);
}

function table(node, head, rows, onRow) {
  clear(node);
  const thead = el("thead", {}, el("tr", {}, head.map(([label, n]) => el("th", { class: n ? "n" : null, scope: "col", text: label }))));
  const tbody = el("tbody");
  for (const r of rows) {
    const tr = el("tr", onRow ? { class: "click", tabindex: 0 } : {});
    r.cells.forEach((c, i) => {
      const cls = [head[i][1] ? "n" : "", head[i][2] ? "wrap" : ""].join(" ").trim() || null;
      tr.append(el("td", { class: cls }, c instanceof Node ? c : String(c)));
    });
    if (onRow) {
      tr.addEventListener("click", () => onRow(r));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") onRow(r); });
    }
    tbody.append(tr);
  }
  node.append(thead, tbody);
}

function chip(status) {
  const label = { "not started": t("notStarted"), "in progress": t("inProgress"), completed: t("completed"),
    passed: t("passed"), failed: t("failed"), enrolled: t("enrolled") }[status] || status;
  return el("span", { class: `chip ${status.replace(" ", "-")}`, text: label });
}

function renderTables(o) {
  table($("t-funnel"), [[t("module")], [t("started"), 1], [t("completed"), 1], [t("passed"), 1], [t("failed"), 1],
    [t("meanScore"), 1], [t("medianMinutes"), 1], [t("stoppedHere"), 1]],
  o.funnel.map((r) => ({ cells: [`${r.module} · ${truncate(r.title, 50)}`, num(r.started), num(r.completed), num(r.passed),
    num(r.failed), pct(r.mean_score), num(r.median_minutes), num(r.stopped_here)] })));
  const sorted = o.questions.slice().sort((a, b) => (a.correct_rate ?? 2) - (b.correct_rate ?? 2));
  const qs = state.allQuestions ? sorted : sorted.slice(0, 12);
  $("more-questions").hidden = sorted.length <= 12;
  $("more-questions").textContent = state.allQuestions ? t("fewer") : fill(t("allQuestions"), { n: sorted.length });
  table($("t-questions"), [[t("question")], [t("module")], [t("tag")], [t("answered"), 1], [t("attempts"), 1], [t("correct"), 1]],
    qs.map((q) => ({ cells: [el("span", { title: q.title, text: `${q.question} · ${truncate(q.title, 60)}` }), q.module,
      q.tag ? t(q.tag) : "", num(q.learners), num(q.attempts), pct(q.correct_rate)] })));
  const list = clear($("comments"));
  for (const c of o.satisfaction.comments) {
    list.append(el("li", {}, [el("div", { text: c.text }), el("div", { class: "q", text: `${c.question} · ${c.date}` })]));
  }
  if (!o.satisfaction.comments.length) list.append(el("li", { class: "empty", text: t("noData") }));
}

async function loadLearners() {
  const p = filterParams();
  p.set("offset", String(state.offset));
  p.set("limit", String(state.limit));
  const q = $("search").value.trim();
  if (q) p.set("q", q);
  const page = await api("/analytics/learners", p);
  state.total = page.total;
  const withIds = page.learners.some((l) => l.identity);
  const head = [[t("id")]].concat(withIds ? [[t("identity")], [t("name")]] : [], [[t("country")], [t("language")],
    [t("cohort")], [t("status")], [t("modulesDone"), 1], [t("pre"), 1], [t("post"), 1], [t("last")]]);
  table($("t-learners"), head, page.learners.map((l) => ({ id: l, cells: [l.id].concat(withIds ? [l.identity || "", l.name || ""] : [],
    [l.country || "", l.language || "", l.cohort || "", chip(l.status), `${l.modules_completed}/${l.modules_total}`,
      pct(l.pre), pct(l.post), l.last]) })), (r) => showLearner(r.id.id));
  $("learner-count").textContent = `${num(page.total)} ${t("learnersFound")}`;
  $("prev").disabled = state.offset === 0;
  $("next").disabled = state.offset + state.limit >= page.total;
}

async function showLearner(id) {
  const p = new URLSearchParams();
  if ($("f-course").value) p.set("course", $("f-course").value);
  p.set("lang", state.lang);
  const d = await api(`/analytics/learners/${encodeURIComponent(id)}`, p);
  $("learner-panel").hidden = false;
  $("learner-id").textContent = d.learner.id;
  const who = [d.learner.name, d.learner.identity, d.learner.country, d.learner.language, d.learner.cohort].filter(Boolean).join(" · ");
  $("learner-meta").textContent = `${who} — ${d.course.title}`;
  table($("t-learner"), [[t("module")], [t("status")], [t("first")], [t("last")], [t("attempts"), 1], [t("minutes"), 1],
    [t("best"), 1], [t("latest"), 1], [t("page")]],
  d.modules.map((m) => ({ cells: [`${m.module} · ${truncate(m.title, 45)}`, chip(m.status), m.first || "", m.last || "",
    m.status === "not started" ? "" : num(m.attempts), m.status === "not started" ? "" : num(m.minutes), pct(m.best_score),
    pct(m.latest_score), m.page || ""] })));
  drawLearnerPrePost(d.pre_post);
  $("learner-panel").scrollIntoView({ behavior: "smooth", block: "start" });
}

function drawLearnerPrePost(rows) {
  const box = $("chart-learner");
  const usable = rows.filter((r) => r.pre_mean !== null || r.post_mean !== null);
  if (!usable.length) return clear(box);
  const W = 640, rowH = 22, left = 110, top = 4;
  const s = svg(W, top + usable.length * rowH * 2 + 4, t("prepost"));
  usable.forEach((r, i) => {
    const y = top + i * rowH * 2;
    s.append(el("text", { x: left - 6, y: y + 15, "text-anchor": "end", text: t(r.tag) }));
    [[r.pre_mean, COLORS.pre, t("pre")], [r.post_mean, COLORS.post, t("post")]].forEach(([v, c, name], j) => {
      const w = Math.max(0, Math.min(1, v || 0)) * (W - left - 60);
      s.append(el("rect", { x: left, y: y + 4 + j * (rowH - 4), width: w, height: rowH - 8, fill: c },
        [el("title", { text: `${name}: ${pct(v)}` })]));
      s.append(el("text", { x: left + w + 4, y: y + 14 + j * (rowH - 4), text: `${name} ${pct(v)}` }));
    });
  });
  clear(box).append(s);
}

async function refresh() {
  $("status").textContent = t("loading");
  try {
    const o = await api("/analytics/overview", filterParams());
    state.overview = o;
    updateFilters(o);
    $("course-title").textContent = o.course ? o.course.title : "";
    renderKpis(o);
    drawFunnel(o);
    drawPrePost(o);
    drawTime(o);
    drawSatisfaction(o);
    renderTables(o);
    state.offset = 0;
    await loadLearners();
    $("status").textContent = `${t("updated")} ${new Date(o.generated).toLocaleString(state.lang)}`;
    document.body.dataset.ready = "true";
  } catch (e) {
    if (e.status === 401) refused(t("badCredential"));
    else if (e.status === 403) refused(t("forbidden"));
    else $("status").textContent = e.message;
  }
}

async function exportCsv() {
  try {
    const blob = await api("/analytics/progress.csv", filterParams(), "csv");
    const url = URL.createObjectURL(blob);
    const course = (state.overview && state.overview.course && state.overview.course.id) || "all";
    const a = el("a", { href: url, download: `kmh-progress-${course}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    $("status").textContent = e.message;
  }
}

function start() {
  applyLanguage();
  $("lang-en").addEventListener("click", () => setLanguage("en"));
  $("lang-fr").addEventListener("click", () => setLanguage("fr"));
  for (const id of ["f-course", "f-module", "f-cohort", "f-country", "f-language", "f-from", "f-to"]) {
    $(id).addEventListener("change", () => {
      if (id === "f-course") $("f-module").value = "";
      refresh();
    });
  }
  $("reset").addEventListener("click", () => {
    for (const id of ["f-module", "f-cohort", "f-country", "f-language", "f-from", "f-to"]) $(id).value = "";
    refresh();
  });
  $("export").addEventListener("click", exportCsv);
  $("more-questions").addEventListener("click", () => {
    state.allQuestions = !state.allQuestions;
    if (state.overview) renderTables(state.overview);
  });
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.offset = 0;
    loadLearners().catch((err) => { $("status").textContent = err.message; });
  });
  $("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - state.limit);
    loadLearners();
  });
  $("next").addEventListener("click", () => {
    state.offset += state.limit;
    loadLearners();
  });
  signedIn();
}

document.addEventListener("DOMContentLoaded", start);
