/*
 * kmh course pages (`kmh serve --courses`): launches a module standalone
 * with Tin Can launch parameters (endpoint, auth, actor, cohort, country).
 * The learner is who the form says (name and e-mail) or an anonymous
 * account whose id stays in this browser; the form is remembered here too.
 * The credential in the page may only write statements and State about
 * this course's activities.
 */
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('kmh-course').textContent);
  var fr = config.language.indexOf('fr') === 0;
  var MESSAGES = fr
    ? { name: 'Indiquez votre nom, ou cochez « Rester anonyme ».', email: 'Indiquez une adresse e-mail valide, ou cochez « Rester anonyme ».', country: 'Le pays s’écrit en deux lettres (p. ex. SN), ou laissez-le vide.' }
    : { name: 'Please give your name, or tick “Stay anonymous”.', email: 'Please give a valid e-mail address, or tick “Stay anonymous”.', country: 'The country is two letters (e.g. SN), or leave it empty.' };
  var KEY = 'kmh-course-learner';
  var form = document.getElementById('kmh-learner');
  var field = function (id) { return document.getElementById('kmh-' + id); };
  var problem = field('problem');

  function load() { try { return JSON.parse(localStorage.getItem(KEY) || '{}') || {}; } catch (e) { return {}; } }
  function save(v) { try { localStorage.setItem(KEY, JSON.stringify(v)); } catch (e) { /* private mode */ } }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  var saved = load();
  field('name').value = saved.name || '';
  field('email').value = saved.email || '';
  field('anonymous').checked = !!saved.anonymous;
  field('cohort').value = saved.cohort || '';
  field('country').value = saved.country || '';
  function sync() {
    var anon = field('anonymous').checked;
    field('name').disabled = anon;
    field('email').disabled = anon;
  }
  field('anonymous').addEventListener('change', sync);
  sync();
  form.addEventListener('submit', function (e) { e.preventDefault(); });

  function fail(text, input) {
    problem.textContent = text;
    problem.hidden = false;
    if (input) input.focus();
    return null;
  }

  // The learner as an xAPI Agent, or null (with the problem shown).
  function learner() {
    problem.hidden = true;
    var v = load();
    v.anonymous = field('anonymous').checked;
    v.name = field('name').value.trim();
    v.email = field('email').value.trim();
    v.cohort = field('cohort').value.trim();
    v.country = field('country').value.trim().toUpperCase();
    if (v.country && !/^[A-Z]{2}$/.test(v.country)) return fail(MESSAGES.country, field('country'));
    var actor;
    if (v.anonymous) {
      v.account = v.account || 'anonymous-' + uuid();
      actor = { objectType: 'Agent', account: { homePage: location.origin, name: v.account } };
    } else {
      if (!v.name) return fail(MESSAGES.name, field('name'));
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.email)) return fail(MESSAGES.email, field('email'));
      actor = { objectType: 'Agent', name: v.name, mbox: 'mailto:' + v.email };
    }
    save(v);
    return { actor: actor, cohort: v.cohort, country: v.country };
  }

  Array.prototype.forEach.call(document.querySelectorAll('a.kmh-start'), function (a) {
    a.addEventListener('click', function (e) {
      e.preventDefault();
      var who = learner();
      if (!who) return;
      var q = new URLSearchParams({
        endpoint: new URL('/xapi/', location.href).href,
        auth: config.auth,
        actor: JSON.stringify(who.actor)
      });
      if (who.cohort) q.set('cohort', who.cohort);
      if (who.country) q.set('country', who.country);
      location.href = new URL(a.getAttribute('href'), location.href).href + '?' + q.toString();
    });
  });
})();
