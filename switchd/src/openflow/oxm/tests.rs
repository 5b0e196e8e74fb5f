//! Tests of [`super`].

use super::*;
