//! Payment providers. Only the test-mode provider exists: it completes every charge locally,
//! moves no money, and marks what it records (`test_…` references, `test_mode: true`), so the
//! whole paid-course flow works on one machine. Real providers (Stripe, PayPal) will be further
//! variants, chosen by configuration.

use rust_decimal::Decimal;
use skilltrack_protocol::PaymentMethod;
use uuid::Uuid;

/// A charge the provider completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// How it was paid.
    pub method: PaymentMethod,
    /// The provider's reference for it.
    pub reference: String,
}

/// Where money comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PaymentProvider {
    /// Completes every charge at once, locally. For development and demos only.
    #[default]
    TestMode,
}

impl PaymentProvider {
    /// Charges `amount` USD for `description`.
    pub fn charge(self, amount: Decimal, description: &str) -> Charge {
        match self {
            Self::TestMode => {
                tracing::info!(%amount, description, "test-mode payment: completed locally, no money moved");
                Charge {
                    method: PaymentMethod::CreditCard,
                    reference: format!("test_{}", Uuid::now_v7().simple()),
                }
            }
        }
    }
}
