//! The schema's enums. Each Rust enum matches its PostgreSQL type value for value and in
//! order; the server's test suite compares them with `pg_enum`, so a drift fails a test.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A string that is not a value of the enum it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {type_name}")]
pub struct UnknownVariant {
    /// The PostgreSQL type name, e.g. `user_role`.
    pub type_name: &'static str,
    /// The rejected text.
    pub value: String,
}

/// Implemented by every enum here, so callers can bind and parse them generically.
pub trait PgEnum: Sized + Copy + 'static {
    /// The PostgreSQL type's name, e.g. `difficulty_level`.
    const PG_TYPE: &'static str;
    /// Every value, in the database's order.
    const ALL: &'static [Self];
    /// The value's database spelling.
    fn as_str(self) -> &'static str;
}

macro_rules! pg_enum {
    (
        $(#[$meta:meta])*
        $name:ident = $pg:literal { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
        #[ts(export)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        // Written out, not derived: utoipa's derive publishes the Rust variant names, not the
        // `serde(rename)` spelling the wire (and the database) uses.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .description(Some(concat!("The PostgreSQL enum `", $pg, "`.")))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl PgEnum for $name {
            const PG_TYPE: &'static str = $pg;
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownVariant { type_name: $pg, value: s.to_owned() }),
                }
            }
        }
    };
}

pg_enum! {
    /// What a person may do: learn, author courses and labs, or administer the platform.
    UserRole = "user_role" {
        /// A learner.
        Student = "student",
        /// Authors and teaches courses and labs.
        Instructor = "instructor",
        /// Manages everything.
        Admin = "admin",
    }
}

pg_enum! {
    /// Where a learner's enrollment in a course stands.
    EnrollmentStatus = "enrollment_status" {
        /// Studying.
        Active = "active",
        /// Every lesson done (and the final exam passed, where there is one).
        Completed = "completed",
        /// Left the course.
        Cancelled = "cancelled",
    }
}

pg_enum! {
    /// A lab session's lifecycle.
    LabSessionStatus = "lab_session_status" {
        /// The environment is being prepared.
        Starting = "starting",
        /// The learner can work in it.
        Active = "active",
        /// Suspended, resumable.
        Paused = "paused",
        /// Ended by the learner.
        Completed = "completed",
        /// Stopped by the idle reaper or the time limit.
        Expired = "expired",
    }
}

pg_enum! {
    /// Kinds of assessment.
    AssessmentType = "assessment_type" {
        /// A practice quiz.
        Quiz = "quiz",
        /// An assignment, usually graded by the instructor.
        Assignment = "assignment",
        /// Must be passed for the course to complete.
        FinalExam = "final_exam",
    }
}

pg_enum! {
    /// When a learner sees an assessment's answer keys, explanations and which of their answers
    /// were right (`assessments.review_policy`; instructors always see them). Not set on an
    /// assessment means the default: after each attempt for a quiz with unlimited attempts,
    /// after the last attempt or once passed for anything with limited attempts and for every
    /// final exam.
    ReviewPolicy = "review_policy" {
        /// With every submitted attempt.
        AfterEachAttempt = "after_each_attempt",
        /// Once the learner has passed, or has no attempt left.
        AfterLastAttemptOrPass = "after_last_attempt_or_pass",
        /// Never to learners.
        Never = "never",
    }
}

pg_enum! {
    /// Kinds of question.
    QuestionType = "question_type" {
        /// One or several right choices among the options.
        MultipleChoice = "multiple_choice",
        /// True or false.
        TrueFalse = "true_false",
        /// A short text compared with the accepted answers.
        ShortAnswer = "short_answer",
        /// Free text, graded by the instructor.
        Essay = "essay",
        /// Code, graded by the instructor.
        Code = "code",
    }
}

pg_enum! {
    /// How demanding a course or lab is (and a learner's stated experience).
    DifficultyLevel = "difficulty_level" {
        /// No prior knowledge needed.
        Beginner = "Beginner",
        /// Some experience expected.
        Intermediate = "Intermediate",
        /// For experienced practitioners.
        Advanced = "Advanced",
    }
}

pg_enum! {
    /// Where a payment stands.
    PaymentStatus = "payment_status" {
        /// Started, not settled.
        Pending = "pending",
        /// Settled.
        Completed = "completed",
        /// Declined or errored.
        Failed = "failed",
        /// Paid back.
        Refunded = "refunded",
    }
}

pg_enum! {
    /// How a payment was made.
    PaymentMethod = "payment_method" {
        /// A card.
        CreditCard = "credit_card",
        /// PayPal.
        Paypal = "paypal",
        /// Stripe.
        Stripe = "stripe",
        /// A bank transfer.
        BankTransfer = "bank_transfer",
    }
}

pg_enum! {
    /// The channel a notification goes out on.
    NotificationType = "notification_type" {
        /// E-mail.
        Email = "email",
        /// A push notification.
        Push = "push",
        /// Inside the app.
        InApp = "in_app",
        /// A text message.
        Sms = "sms",
    }
}

pg_enum! {
    /// Where a notification stands.
    NotificationStatus = "notification_status" {
        /// Handed to its channel.
        Sent = "sent",
        /// Reached the recipient's device.
        Delivered = "delivered",
        /// Read by the recipient.
        Read = "read",
        /// Could not be delivered.
        Failed = "failed",
    }
}

pg_enum! {
    /// What a user did, for their activity history.
    ActivityType = "activity_type" {
        /// Signed in.
        Login = "login",
        /// Started a course.
        CourseStart = "course_start",
        /// Completed a course.
        CourseComplete = "course_complete",
        /// Started a lab.
        LabStart = "lab_start",
        /// Completed a lab.
        LabComplete = "lab_complete",
        /// Started an assessment.
        AssessmentStart = "assessment_start",
        /// Submitted an assessment.
        AssessmentComplete = "assessment_complete",
        /// Paid.
        Payment = "payment",
        /// Enrolled in a course.
        Enrollment = "enrollment",
    }
}

pg_enum! {
    /// Kinds of file in a lab workspace.
    FileType = "file_type" {
        /// A picture.
        Image = "image",
        /// Text or office documents.
        Document = "document",
        /// A video.
        Video = "video",
        /// Sound.
        Audio = "audio",
        /// A compressed archive.
        Archive = "archive",
        /// Source code.
        Code = "code",
    }
}

pg_enum! {
    /// A lab environment's lifecycle.
    EnvironmentStatus = "environment_status" {
        /// Being created.
        Creating = "creating",
        /// Running.
        Running = "running",
        /// Suspended.
        Paused = "paused",
        /// Stopped; the workspace may be kept.
        Stopped = "stopped",
        /// Failed.
        Error = "error",
        /// Destroyed.
        Deleted = "deleted",
    }
}

/// The PostgreSQL name and values of every enum, for the schema test.
pub fn all_pg_enums() -> Vec<(&'static str, Vec<&'static str>)> {
    fn values<E: PgEnum>() -> (&'static str, Vec<&'static str>) {
        (E::PG_TYPE, E::ALL.iter().map(|v| v.as_str()).collect())
    }
    vec![
        values::<UserRole>(),
        values::<EnrollmentStatus>(),
        values::<LabSessionStatus>(),
        values::<AssessmentType>(),
        values::<ReviewPolicy>(),
        values::<QuestionType>(),
        values::<DifficultyLevel>(),
        values::<PaymentStatus>(),
        values::<PaymentMethod>(),
        values::<NotificationType>(),
        values::<NotificationStatus>(),
        values::<ActivityType>(),
        values::<FileType>(),
        values::<EnvironmentStatus>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_text_and_json() {
        for (type_name, values) in all_pg_enums() {
            for value in values {
                let json = serde_json::to_string(value).unwrap();
                assert_eq!(json, format!("\"{value}\""), "{type_name}");
            }
        }
        for role in UserRole::ALL {
            assert_eq!(role.as_str().parse::<UserRole>().unwrap(), *role);
            let json = serde_json::to_string(role).unwrap();
            assert_eq!(serde_json::from_str::<UserRole>(&json).unwrap(), *role);
        }
        assert_eq!(DifficultyLevel::Advanced.to_string(), "Advanced");
    }

    #[test]
    fn unknown_text_is_a_clear_error() {
        let err = "teacher".parse::<UserRole>().unwrap_err();
        assert_eq!(err.to_string(), "\"teacher\" is not a valid user_role");
    }
}
