//! English, the reference: every key is here, and French has the same ones.

use super::Message;

/// The messages, by key.
pub(super) const MESSAGES: &[(&str, Message)] = &[
    (
        "enrolled",
        Message {
            title: "Enrolled",
            body: "You are enrolled in \"{course}\". Enjoy the course!",
        },
    ),
    (
        "course_completed",
        Message {
            title: "Course completed",
            body: "You completed \"{course}\". Well done!",
        },
    ),
    (
        "certificate_issued",
        Message {
            title: "Certificate issued",
            body: "Your certificate for \"{course}\" is {number}.",
        },
    ),
    (
        "attempt_passed",
        Message {
            title: "{assessment}: {score}%",
            body: "Your attempt {attempt} at \"{assessment}\" is graded: {score}%, passed.",
        },
    ),
    (
        "attempt_not_passed",
        Message {
            title: "{assessment}: {score}%",
            body: "Your attempt {attempt} at \"{assessment}\" is graded: {score}%, not passed.",
        },
    ),
    (
        "lab_complete",
        Message {
            title: "Lab complete",
            body: "You passed every step of \"{lab}\".",
        },
    ),
    (
        "lab_stops_soon",
        Message {
            title: "Your lab stops soon",
            body: "Nothing has been typed in \"{lab}\" for a while: it stops itself at {time} UTC \
                   unless you type something.",
        },
    ),
    (
        "lab_stopped",
        Message {
            title: "Your lab stopped",
            body: "\"{lab}\" stopped itself after {minutes} minutes without input.",
        },
    ),
    (
        "lab_interrupted",
        Message {
            title: "Your lab was interrupted",
            body: "The server running \"{lab}\" stopped unexpectedly. Your lab is paused and its \
                   files are kept: resume it to carry on where you left off.",
        },
    ),
    (
        "password_reset_mail",
        Message {
            title: "Reset your {instance} password",
            body: "Someone, hopefully you, asked to reset the password of the {instance} account \
                   {email}.\n\nTo choose a new password, open this link within an hour:\n\n\
                   {link}\n\nThe link works once. Every device signed in to the account will be \
                   signed out.\n\nIf you did not ask for this, ignore this message: your password \
                   stays as it is.\n",
        },
    ),
    (
        "email_confirmation_mail",
        Message {
            title: "Confirm your e-mail address for {instance}",
            body: "Please confirm that {email} is the address of your {instance} account: open \
                   this link within 24 hours.\n\n{link}\n\nIf you did not make an account, \
                   ignore this message.\n",
        },
    ),
];
