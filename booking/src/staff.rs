//! Staff accounts: who may sign in to the admin panel, and what they may run.

use uuid::Uuid;

/// What a member of staff may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffRole {
    /// Every restaurant, the chain's operations and its dead letters.
    Admin,
    /// Only these restaurants.
    Manager(Vec<Uuid>),
}

#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    pub disabled: bool,
}

impl StaffAccount {
    /// The restaurants this account runs; `None`: every one.
    pub fn restaurants(&self) -> Option<&[Uuid]> {
        match &self.role {
            StaffRole::Admin => None,
            StaffRole::Manager(ids) => Some(ids),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == StaffRole::Admin
    }
}

/// A new account, before it is stored.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub email: String,
    pub name: String,
    pub role: StaffRole,
}
