//! A learner's actions that only the server can decide, so they need the network: signing up,
//! enrolling (payment, seats, deadlines and prerequisites are the server's to check), timed
//! attempts (their clock runs on the server) and an attempt's review with answer keys and
//! explanations (a device never holds those before the attempt is submitted).
//!
//! Each fails with [`crate::api::ApiError::Offline`] when the server cannot be reached, and with
//! the server's problem (stable code, words) when it refuses; nothing is queued.

use reqwest::Method;
use skilltrack_protocol::assessments::{
    AnswerEntry, AnswerSave, AnswerValue, Attempt, AttemptStart, AttemptSubmission,
};
use skilltrack_protocol::auth::{Session, SignUpRequest};
use skilltrack_protocol::learning::Enrollment;
use uuid::Uuid;

use crate::sync::{SyncEngine, SyncError};

impl SyncEngine {
    /// Creates an account, signs in with it and keeps the session.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        full_name: &str,
    ) -> Result<Session, SyncError> {
        let body = SignUpRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            full_name: full_name.to_owned(),
        };
        // No session yet: the sign-up route reads no token, so none is sent.
        let session: Session = self
            .api()
            .json(Method::POST, "/api/v1/auth/sign-up", "", Some(&body))
            .await?;
        self.adopt(session.clone()).await?;
        Ok(session)
    }

    /// Enrolls the signed-in learner in a course; the next sync brings its lessons.
    pub async fn enroll(&self, course_id: Uuid) -> Result<Enrollment, SyncError> {
        let token = self.session().await?.access_token;
        let enrollment = self
            .api()
            .json::<(), Enrollment>(
                Method::POST,
                &format!("/api/v1/courses/{course_id}/enrollment"),
                &token,
                None,
            )
            .await?;
        self.nudge();
        Ok(enrollment)
    }

    /// Starts an attempt on the server (timed assessments) with an id chosen here, so a retry
    /// is the same attempt.
    pub async fn start_online_attempt(
        &self,
        assessment_id: Uuid,
        attempt_id: Uuid,
    ) -> Result<Attempt, SyncError> {
        let token = self.session().await?.access_token;
        let attempt = self
            .api()
            .json(
                Method::POST,
                &format!("/api/v1/assessments/{assessment_id}/attempts"),
                &token,
                Some(&AttemptStart { id: attempt_id }),
            )
            .await?;
        self.nudge();
        Ok(attempt)
    }

    /// Saves one answer into an attempt open on the server.
    pub async fn save_online_answer(
        &self,
        attempt_id: Uuid,
        question_id: Uuid,
        answer: &AnswerValue,
    ) -> Result<AnswerEntry, SyncError> {
        let token = self.session().await?.access_token;
        Ok(self
            .api()
            .json(
                Method::PUT,
                &format!("/api/v1/attempts/{attempt_id}/answers/{question_id}"),
                &token,
                Some(&AnswerSave {
                    answer: answer.clone(),
                }),
            )
            .await?)
    }

    /// Submits an attempt open on the server (its answers are saved there already).
    pub async fn submit_online_attempt(
        &self,
        attempt_id: Uuid,
        assessment_id: Uuid,
    ) -> Result<Attempt, SyncError> {
        let token = self.session().await?.access_token;
        let attempt = self
            .api()
            .json(
                Method::PUT,
                &format!("/api/v1/attempts/{attempt_id}/submission"),
                &token,
                Some(&AttemptSubmission {
                    assessment_id,
                    answers: Vec::new(),
                }),
            )
            .await?;
        self.nudge();
        Ok(attempt)
    }

    /// An attempt as the server has it: after submission, with grades, answer keys and
    /// explanations.
    pub async fn attempt_review(&self, attempt_id: Uuid) -> Result<Attempt, SyncError> {
        let token = self.session().await?.access_token;
        Ok(self
            .api()
            .json::<(), Attempt>(
                Method::GET,
                &format!("/api/v1/attempts/{attempt_id}"),
                &token,
                None,
            )
            .await?)
    }
}
