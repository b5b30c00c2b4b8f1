/*
 * kmh content runtime: PLACEHOLDER.
 *
 * This file is intentionally a no-op. The real runtime (SCORM API discovery
 * through parent/opener frames, bookmarking, suspend data, quiz scoring from
 * the JSON model in <script type="application/json" id="kmh-quiz">, and
 * xAPI statements to the endpoint in kmh-runtime.json) is the separate
 * "Content runtime" issue, which replaces this file.
 *
 * Until then every page of a package is complete without JavaScript: it
 * reads, navigates (table of contents, previous/next links) and shows its
 * quizzes as ordinary forms. Nothing here talks to the LMS, so the LMS
 * records no completion or score yet.
 */
