//! The words kmh itself puts on a page (navigation, labels, callout
//! titles), in the module's language. Languages without a table fall back
//! to English; add a table here to support one.

pub struct Strings {
    pub skip_to_content: &'static str,
    pub contents: &'static str,
    pub module_contents: &'static str,
    pub overview: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub page_navigation: &'static str,
    pub start: &'static str,
    /// `{n}` and `{m}` are replaced.
    pub page_n_of_m: &'static str,
    pub question_n_of_m: &'static str,
    pub objectives: &'static str,
    pub estimated_time: &'static str,
    pub pass_mark: &'static str,
    pub attempts_allowed: &'static str,
    pub unlimited: &'static str,
    pub not_scored: &'static str,
    pub true_: &'static str,
    pub false_: &'static str,
    pub choose: &'static str,
    pub your_answer: &'static str,
    pub check_answers: &'static str,
    pub quiz_needs_js: &'static str,
    pub new_window: &'static str,
    pub external_activity: &'static str,
    pub open_external: &'static str,
    pub handout: &'static str,
    pub print_hint: &'static str,
    pub end_of_module: &'static str,
    pub note: &'static str,
    pub tip: &'static str,
    pub important: &'static str,
    pub warning: &'static str,
    pub caution: &'static str,
    pub exercise: &'static str,
    pub back_to_reference: &'static str,
    pub task_done: &'static str,
    pub task_todo: &'static str,
    pub hours: &'static str,
    pub minutes: &'static str,
}

const EN: Strings = Strings {
    skip_to_content: "Skip to content",
    contents: "Contents",
    module_contents: "Module contents",
    overview: "Overview",
    previous: "Previous",
    next: "Next",
    page_navigation: "Previous and next page",
    start: "Start",
    page_n_of_m: "Page {n} of {m}",
    question_n_of_m: "Question {n} of {m}",
    objectives: "Learning objectives",
    estimated_time: "Estimated time",
    pass_mark: "Pass mark",
    attempts_allowed: "Attempts allowed",
    unlimited: "unlimited",
    not_scored: "This questionnaire is not scored.",
    true_: "True",
    false_: "False",
    choose: "Choose…",
    your_answer: "Your answer",
    check_answers: "Check answers",
    quiz_needs_js: "Your answers are checked and recorded by the course player, which needs JavaScript. You can still read and answer every question.",
    new_window: "(opens in a new window)",
    external_activity: "External activity",
    open_external: "Open the activity",
    handout: "Handout",
    print_hint: "Use your browser's Print command to print or save this handout as PDF.",
    end_of_module: "End of module",
    note: "Note",
    tip: "Tip",
    important: "Important",
    warning: "Warning",
    caution: "Caution",
    exercise: "Exercise",
    back_to_reference: "Back to reference",
    task_done: "Done:",
    task_todo: "To do:",
    hours: "h",
    minutes: "min",
};

const FR: Strings = Strings {
    skip_to_content: "Aller au contenu",
    contents: "Sommaire",
    module_contents: "Sommaire du module",
    overview: "Présentation",
    previous: "Précédent",
    next: "Suivant",
    page_navigation: "Page précédente et suivante",
    start: "Commencer",
    page_n_of_m: "Page {n} sur {m}",
    question_n_of_m: "Question {n} sur {m}",
    objectives: "Objectifs d'apprentissage",
    estimated_time: "Durée estimée",
    pass_mark: "Note de réussite",
    attempts_allowed: "Tentatives autorisées",
    unlimited: "illimitées",
    not_scored: "Ce questionnaire n'est pas noté.",
    true_: "Vrai",
    false_: "Faux",
    choose: "Choisir…",
    your_answer: "Votre réponse",
    check_answers: "Vérifier les réponses",
    quiz_needs_js: "Vos réponses sont vérifiées et enregistrées par le lecteur du cours, qui a besoin de JavaScript. Vous pouvez néanmoins lire chaque question et y répondre.",
    new_window: "(s'ouvre dans une nouvelle fenêtre)",
    external_activity: "Activité externe",
    open_external: "Ouvrir l'activité",
    handout: "Document à distribuer",
    print_hint: "Utilisez la commande Imprimer de votre navigateur pour imprimer ce document ou l'enregistrer en PDF.",
    end_of_module: "Fin du module",
    note: "Remarque",
    tip: "Conseil",
    important: "Important",
    warning: "Avertissement",
    caution: "Attention",
    exercise: "Exercice",
    back_to_reference: "Retour à la référence",
    task_done: "Fait :",
    task_todo: "À faire :",
    hours: "h",
    minutes: "min",
};

/// The table for a BCP 47 tag, matched on its primary language subtag.
pub fn strings(lang: &str) -> &'static Strings {
    let primary = lang.split('-').next().unwrap_or(lang).to_ascii_lowercase();
    match primary.as_str() {
        "fr" => &FR,
        _ => &EN,
    }
}

impl Strings {
    pub fn n_of_m(template: &str, n: usize, m: usize) -> String {
        template
            .replace("{n}", &n.to_string())
            .replace("{m}", &m.to_string())
    }

    /// `90` → `1 h 30 min`.
    pub fn duration(&self, minutes: u32) -> String {
        let (h, m) = (minutes / 60, minutes % 60);
        match (h, m) {
            (0, m) => format!("{m} {}", self.minutes),
            (h, 0) => format!("{h} {}", self.hours),
            (h, m) => format!("{h} {} {m} {}", self.hours, self.minutes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_primary_subtag() {
        assert_eq!(strings("fr-CA").next, "Suivant");
        assert_eq!(strings("en").next, "Next");
        assert_eq!(strings("sw").next, "Next");
    }

    #[test]
    fn durations_read_naturally() {
        let s = strings("en");
        assert_eq!(s.duration(45), "45 min");
        assert_eq!(s.duration(120), "2 h");
        assert_eq!(s.duration(150), "2 h 30 min");
    }
}
