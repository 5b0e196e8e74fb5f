//! The OFPMP_TABLE_FEATURES reply body (1.3): what every table of
//! switchd can do. Every table is the same classifier with the same
//! action set, so the entries differ only in their id, name and next
//! tables.
//!
//! Properties (OpenFlow 1.3.5 §7.3.5.5), the eight the spec requires and
//! no `_MISS` ones (those default to the regular ones):
//! - instructions: goto-table, write-metadata, apply-actions, meter
//!   (write-actions and clear-actions are not supported);
//! - next tables: every later table;
//! - write actions: none; apply actions: output, push/pop VLAN,
//!   set-field, dec/set TTL, group;
//! - match: every field of the flow key under its OXM (or NXM) header,
//!   with the mask bit for fields that take masks; wildcards: the same
//!   fields, unmasked (any may be left out of a match);
//! - write set-field: none; apply set-field: the writable fields.

use super::buf::{pad8, put_str, put_u16, put_u32, put_u64, put_u8, put_zeros, set_len};
use super::common::{table_name, MAX_ENTRIES};
use crate::flow::Field;
use crate::openflow::wire::{at, field_oxms, it, oxm, tfpt};

/// Appends the `ofp_table_features` of `table_id` of `n_tables`.
pub(super) fn put_table_features(e: &mut Vec<u8>, table_id: u8, n_tables: u8) {
    let start = e.len();
    put_u16(e, 0); // length, below
    put_u8(e, table_id);
    put_zeros(e, 5);
    put_str(e, &table_name(table_id), 32);
    put_u64(e, u64::MAX); // metadata_match
    put_u64(e, u64::MAX); // metadata_write
    put_u32(e, 0); // config
    put_u32(e, MAX_ENTRIES);

    prop(e, tfpt::INSTRUCTIONS, |e| {
        for i in [it::GOTO_TABLE, it::WRITE_METADATA, it::APPLY_ACTIONS, it::METER] {
            put_u16(e, i);
            put_u16(e, 4);
        }
    });
    prop(e, tfpt::NEXT_TABLES, |e| {
        e.extend(table_id.saturating_add(1)..n_tables)
    });
    prop(e, tfpt::WRITE_ACTIONS, |_| {});
    prop(e, tfpt::APPLY_ACTIONS, |e| {
        for a in at::SUPPORTED {
            put_u16(e, *a);
            put_u16(e, 4);
        }
    });
    prop(e, tfpt::MATCH, |e| {
        for f in Field::ALL {
            let (headers, maskable) = field_oxms(*f);
            for h in headers {
                put_u32(e, if maskable { oxm::masked(*h) } else { *h });
            }
        }
    });
    prop(e, tfpt::WILDCARDS, |e| put_fields(e, |_| true));
    prop(e, tfpt::WRITE_SETFIELD, |_| {});
    prop(e, tfpt::APPLY_SETFIELD, |e| put_fields(e, |f| f.writable()));
    set_len(e, start, 0);
}

/// Appends the unmasked OXM headers of the fields `pick` selects.
fn put_fields(e: &mut Vec<u8>, pick: impl Fn(Field) -> bool) {
    for f in Field::ALL.iter().copied().filter(|f| pick(*f)) {
        for h in field_oxms(f).0 {
            put_u32(e, *h);
        }
    }
}

/// Appends one property: type, length (without padding), what `body`
/// writes, padding to 8 bytes.
fn prop(e: &mut Vec<u8>, ptype: u16, body: impl FnOnce(&mut Vec<u8>)) {
    let start = e.len();
    put_u16(e, ptype);
    put_u16(e, 0);
    body(e);
    set_len(e, start, 2);
    pad8(e, start);
}
