//! French: the same keys as English (a test checks), with the same placeholders.

use super::Message;

/// The messages, by key.
pub(super) const MESSAGES: &[(&str, Message)] = &[
    (
        "enrolled",
        Message {
            title: "Inscription confirmée",
            body: "Votre inscription à « {course} » est confirmée. Bon cours !",
        },
    ),
    (
        "course_completed",
        Message {
            title: "Cours terminé",
            body: "Vous avez terminé « {course} ». Bravo !",
        },
    ),
    (
        "certificate_issued",
        Message {
            title: "Certificat délivré",
            body: "Votre certificat pour « {course} » porte le numéro {number}.",
        },
    ),
    (
        "attempt_passed",
        Message {
            title: "{assessment} : {score} %",
            body: "Votre tentative n° {attempt} à « {assessment} » est notée : {score} %, \
                   réussie.",
        },
    ),
    (
        "attempt_not_passed",
        Message {
            title: "{assessment} : {score} %",
            body: "Votre tentative n° {attempt} à « {assessment} » est notée : {score} %, non \
                   réussie.",
        },
    ),
    (
        "lab_complete",
        Message {
            title: "Lab terminé",
            body: "Vous avez réussi toutes les étapes de « {lab} ».",
        },
    ),
    (
        "lab_stops_soon",
        Message {
            title: "Votre lab va bientôt s\u{2019}arrêter",
            body: "Rien n\u{2019}a été tapé dans « {lab} » depuis un moment : il s\u{2019}arrêtera \
                   de lui-même à {time} UTC si vous ne tapez rien.",
        },
    ),
    (
        "lab_stopped",
        Message {
            title: "Votre lab s\u{2019}est arrêté",
            body: "« {lab} » s\u{2019}est arrêté de lui-même après {minutes} minutes sans saisie.",
        },
    ),
    (
        "lab_interrupted",
        Message {
            title: "Votre lab a été interrompu",
            body: "Le serveur qui faisait tourner « {lab} » s\u{2019}est arrêté de façon \
                   inattendue. Votre lab est en pause et ses fichiers sont conservés : reprenez-le \
                   pour continuer là où vous en étiez.",
        },
    ),
    (
        "password_reset_mail",
        Message {
            title: "Réinitialisez votre mot de passe {instance}",
            body: "Quelqu\u{2019}un, vous sans doute, a demandé à réinitialiser le mot de passe du \
                   compte {instance} {email}.\n\nPour choisir un nouveau mot de passe, ouvrez ce \
                   lien dans l\u{2019}heure :\n\n{link}\n\nLe lien ne sert qu\u{2019}une fois. \
                   Chaque appareil connecté au compte en sera déconnecté.\n\nSi vous n\u{2019}avez \
                   rien demandé, ignorez ce message : votre mot de passe reste le même.\n",
        },
    ),
    (
        "email_confirmation_mail",
        Message {
            title: "Confirmez votre adresse e-mail pour {instance}",
            body: "Merci de confirmer que {email} est l\u{2019}adresse de votre compte \
                   {instance} : ouvrez ce lien dans les 24 heures.\n\n{link}\n\nSi vous \
                   n\u{2019}avez pas créé de compte, ignorez ce message.\n",
        },
    ),
];
