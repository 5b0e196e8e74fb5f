//! OFPT_ERROR: why a message was refused, as a version-independent code
//! that the codec turns into the type/code numbers of the connection's
//! version (OpenFlow 1.3.5 §A.4.4, OpenFlow 1.0.0 §5.4.4).
//!
//! [`OfError::to_wire`] holds both tables. OpenFlow 1.0 lacks most of 1.3's
//! error types (instructions, matches, groups, meters, roles, switch
//! config, table features); those map to the nearest standard 1.0 pair
//! rather than to OVS's Nicira-extension codes, so that any 1.0
//! controller can print them.

use super::wire::et;

/// One refusal. Variants are named after OpenFlow 1.3's `OFPET_*`/`*C_*`
/// constants; [`OfError::to_wire`] gives the numbers for a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfError {
    /// OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE: no common version.
    HelloIncompatible,
    /// OFPET_BAD_REQUEST / OFPBRC_BAD_VERSION.
    BadVersion,
    /// OFPBRC_BAD_TYPE: a message type this switch does not handle.
    BadType,
    /// OFPBRC_BAD_MULTIPART (1.0: OFPBRC_BAD_STAT): an unknown multipart type.
    BadMultipart,
    /// OFPBRC_BAD_EXPERIMENTER (1.0: OFPBRC_BAD_VENDOR).
    BadExperimenter,
    /// OFPBRC_BAD_EXP_TYPE (1.0: OFPBRC_BAD_SUBTYPE).
    BadExpType,
    /// OFPBRC_EPERM: not allowed (a slave's change).
    Eperm,
    /// OFPBRC_BAD_LEN: a length field disagrees with the message.
    BadLen,
    /// OFPBRC_BUFFER_UNKNOWN: a buffer id other than NO_BUFFER (switchd
    /// buffers nothing).
    BufferUnknown,
    /// OFPBRC_BAD_TABLE_ID.
    BadTableId,
    /// OFPBRC_IS_SLAVE: a change from a controller in the slave role.
    IsSlave,
    /// OFPBRC_BAD_PORT: an invalid port in a request.
    BadPort,
    /// OFPBRC_MULTIPART_BUFFER_OVERFLOW.
    MultipartBufferOverflow,

    /// OFPET_BAD_ACTION / OFPBAC_BAD_TYPE: unknown or unsupported action.
    BadActionType,
    /// OFPBAC_BAD_LEN.
    BadActionLen,
    /// OFPBAC_BAD_EXPERIMENTER (1.0: OFPBAC_BAD_VENDOR).
    BadActionExperimenter,
    /// OFPBAC_BAD_EXP_TYPE (1.0: OFPBAC_BAD_VENDOR_TYPE).
    BadActionExpType,
    /// OFPBAC_BAD_OUT_PORT.
    BadOutPort,
    /// OFPBAC_BAD_ARGUMENT.
    BadArgument,
    /// OFPBAC_TOO_MANY.
    TooManyActions,
    /// OFPBAC_BAD_OUT_GROUP.
    BadOutGroup,
    /// OFPBAC_MATCH_INCONSISTENT: the action needs a field the match does
    /// not guarantee (a prerequisite).
    MatchInconsistent,
    /// OFPBAC_UNSUPPORTED_ORDER.
    UnsupportedOrder,
    /// OFPBAC_BAD_SET_TYPE: set-field of an unknown or unwritable field.
    BadSetType,
    /// OFPBAC_BAD_SET_LEN.
    BadSetLen,
    /// OFPBAC_BAD_SET_ARGUMENT.
    BadSetArgument,

    /// OFPET_BAD_INSTRUCTION / OFPBIC_UNKNOWN_INST.
    UnknownInst,
    /// OFPBIC_UNSUP_INST: a known instruction switchd does not implement
    /// (write-actions, clear-actions).
    UnsupInst,
    /// OFPBIC_BAD_TABLE_ID: goto-table backwards or beyond the last table.
    BadInstTableId,
    /// OFPBIC_UNSUP_METADATA_MASK.
    UnsupMetadataMask,
    /// OFPBIC_BAD_LEN.
    BadInstLen,

    /// OFPET_BAD_MATCH / OFPBMC_BAD_TYPE.
    BadMatchType,
    /// OFPBMC_BAD_LEN.
    BadMatchLen,
    /// OFPBMC_BAD_FIELD: an unknown or unsupported field.
    BadField,
    /// OFPBMC_BAD_WILDCARDS (1.0: the match's wildcards).
    BadWildcards,
    /// OFPBMC_BAD_VALUE.
    BadValue,
    /// OFPBMC_BAD_MASK.
    BadMask,
    /// OFPBMC_BAD_PREREQ.
    BadPrereq,
    /// OFPBMC_DUP_FIELD.
    DupField,

    /// OFPET_FLOW_MOD_FAILED / OFPFMFC_TABLE_FULL.
    TableFull,
    /// OFPFMFC_BAD_TABLE_ID.
    FlowModBadTableId,
    /// OFPFMFC_OVERLAP (CHECK_OVERLAP found one).
    Overlap,
    /// OFPFMFC_BAD_TIMEOUT.
    BadTimeout,
    /// OFPFMFC_BAD_COMMAND.
    BadCommand,
    /// OFPFMFC_BAD_FLAGS.
    BadFlags,

    /// OFPET_GROUP_MOD_FAILED / OFPGMFC_GROUP_EXISTS.
    GroupExists,
    /// OFPGMFC_INVALID_GROUP.
    InvalidGroup,
    /// OFPGMFC_OUT_OF_GROUPS.
    OutOfGroups,
    /// OFPGMFC_OUT_OF_BUCKETS.
    OutOfBuckets,
    /// OFPGMFC_CHAINING_UNSUPPORTED.
    ChainingUnsupported,
    /// OFPGMFC_LOOP.
    GroupLoop,
    /// OFPGMFC_UNKNOWN_GROUP.
    UnknownGroup,
    /// OFPGMFC_BAD_TYPE (e.g. fast-failover, which switchd lacks).
    BadGroupType,
    /// OFPGMFC_BAD_COMMAND.
    BadGroupCommand,
    /// OFPGMFC_BAD_BUCKET.
    BadBucket,
    /// OFPGMFC_BAD_WATCH.
    BadWatch,

    /// OFPET_PORT_MOD_FAILED / OFPPMFC_BAD_PORT.
    PortModBadPort,
    /// OFPPMFC_BAD_HW_ADDR.
    PortModBadHwAddr,
    /// OFPPMFC_BAD_CONFIG.
    PortModBadConfig,

    /// OFPET_TABLE_MOD_FAILED / OFPTMFC_BAD_TABLE.
    TableModBadTable,

    /// OFPET_SWITCH_CONFIG_FAILED / OFPSCFC_BAD_FLAGS.
    SwitchConfigBadFlags,
    /// OFPSCFC_BAD_LEN (miss_send_len).
    SwitchConfigBadLen,

    /// OFPET_ROLE_REQUEST_FAILED / OFPRRFC_STALE: an old generation id.
    RoleStale,
    /// OFPRRFC_BAD_ROLE.
    BadRole,

    /// OFPET_METER_MOD_FAILED / OFPMMFC_UNKNOWN (before SPEC §12's meters).
    MeterModUnknown,
    /// OFPMMFC_METER_EXISTS.
    MeterExists,
    /// OFPMMFC_INVALID_METER.
    InvalidMeter,
    /// OFPMMFC_UNKNOWN_METER.
    UnknownMeter,
    /// OFPMMFC_BAD_COMMAND.
    BadMeterCommand,
    /// OFPMMFC_BAD_FLAGS.
    BadMeterFlags,
    /// OFPMMFC_BAD_RATE.
    BadMeterRate,
    /// OFPMMFC_BAD_BURST.
    BadMeterBurst,
    /// OFPMMFC_BAD_BAND.
    BadMeterBand,
    /// OFPMMFC_OUT_OF_METERS.
    OutOfMeters,
    /// OFPMMFC_OUT_OF_BANDS.
    OutOfBands,

    /// OFPET_TABLE_FEATURES_FAILED / OFPTFFC_EPERM: table features cannot
    /// be changed.
    TableFeaturesEperm,
}

impl OfError {
    /// The `(type, code)` numbers of this error in OpenFlow `version`
    /// (1, OpenFlow 1.0, gives 1.0's numbers; anything else 1.3's).
    pub fn to_wire(self, version: u8) -> (u16, u16) {
        // The literal, not `msg::OFP10`: msg.rs imports this file.
        if version == 0x01 {
            self.to_wire10()
        } else {
            self.to_wire13()
        }
    }

    /// OpenFlow 1.3.5 §7.4.4 numbers.
    fn to_wire13(self) -> (u16, u16) {
        use OfError::*;
        match self {
            HelloIncompatible => (et::HELLO_FAILED, 0),

            BadVersion => (et::BAD_REQUEST, 0),
            BadType => (et::BAD_REQUEST, 1),
            BadMultipart => (et::BAD_REQUEST, 2),
            BadExperimenter => (et::BAD_REQUEST, 3),
            BadExpType => (et::BAD_REQUEST, 4),
            Eperm => (et::BAD_REQUEST, 5),
            BadLen => (et::BAD_REQUEST, 6),
            BufferUnknown => (et::BAD_REQUEST, 8),
            BadTableId => (et::BAD_REQUEST, 9),
            IsSlave => (et::BAD_REQUEST, 10),
            BadPort => (et::BAD_REQUEST, 11),
            MultipartBufferOverflow => (et::BAD_REQUEST, 13),

            BadActionType => (et::BAD_ACTION, 0),
            BadActionLen => (et::BAD_ACTION, 1),
            BadActionExperimenter => (et::BAD_ACTION, 2),
            BadActionExpType => (et::BAD_ACTION, 3),
            BadOutPort => (et::BAD_ACTION, 4),
            BadArgument => (et::BAD_ACTION, 5),
            TooManyActions => (et::BAD_ACTION, 7),
            BadOutGroup => (et::BAD_ACTION, 9),
            MatchInconsistent => (et::BAD_ACTION, 10),
            UnsupportedOrder => (et::BAD_ACTION, 11),
            BadSetType => (et::BAD_ACTION, 13),
            BadSetLen => (et::BAD_ACTION, 14),
            BadSetArgument => (et::BAD_ACTION, 15),

            UnknownInst => (et::BAD_INSTRUCTION, 0),
            UnsupInst => (et::BAD_INSTRUCTION, 1),
            BadInstTableId => (et::BAD_INSTRUCTION, 2),
            UnsupMetadataMask => (et::BAD_INSTRUCTION, 4),
            BadInstLen => (et::BAD_INSTRUCTION, 7),

            BadMatchType => (et::BAD_MATCH, 0),
            BadMatchLen => (et::BAD_MATCH, 1),
            BadWildcards => (et::BAD_MATCH, 5),
            BadField => (et::BAD_MATCH, 6),
            BadValue => (et::BAD_MATCH, 7),
            BadMask => (et::BAD_MATCH, 8),
            BadPrereq => (et::BAD_MATCH, 9),
            DupField => (et::BAD_MATCH, 10),

            TableFull => (et::FLOW_MOD_FAILED, 1),
            FlowModBadTableId => (et::FLOW_MOD_FAILED, 2),
            Overlap => (et::FLOW_MOD_FAILED, 3),
            BadTimeout => (et::FLOW_MOD_FAILED, 5),
            BadCommand => (et::FLOW_MOD_FAILED, 6),
            BadFlags => (et::FLOW_MOD_FAILED, 7),

            GroupExists => (et::GROUP_MOD_FAILED, 0),
            InvalidGroup => (et::GROUP_MOD_FAILED, 1),
            OutOfGroups => (et::GROUP_MOD_FAILED, 3),
            OutOfBuckets => (et::GROUP_MOD_FAILED, 4),
            ChainingUnsupported => (et::GROUP_MOD_FAILED, 5),
            GroupLoop => (et::GROUP_MOD_FAILED, 7),
            UnknownGroup => (et::GROUP_MOD_FAILED, 8),
            BadGroupType => (et::GROUP_MOD_FAILED, 10),
            BadGroupCommand => (et::GROUP_MOD_FAILED, 11),
            BadBucket => (et::GROUP_MOD_FAILED, 12),
            BadWatch => (et::GROUP_MOD_FAILED, 13),

            PortModBadPort => (et::PORT_MOD_FAILED, 0),
            PortModBadHwAddr => (et::PORT_MOD_FAILED, 1),
            PortModBadConfig => (et::PORT_MOD_FAILED, 2),

            TableModBadTable => (et::TABLE_MOD_FAILED, 0),

            SwitchConfigBadFlags => (et::SWITCH_CONFIG_FAILED, 0),
            SwitchConfigBadLen => (et::SWITCH_CONFIG_FAILED, 1),

            RoleStale => (et::ROLE_REQUEST_FAILED, 0),
            BadRole => (et::ROLE_REQUEST_FAILED, 2),

            MeterModUnknown => (et::METER_MOD_FAILED, 0),
            MeterExists => (et::METER_MOD_FAILED, 1),
            InvalidMeter => (et::METER_MOD_FAILED, 2),
            UnknownMeter => (et::METER_MOD_FAILED, 3),
            BadMeterCommand => (et::METER_MOD_FAILED, 4),
            BadMeterFlags => (et::METER_MOD_FAILED, 5),
            BadMeterRate => (et::METER_MOD_FAILED, 6),
            BadMeterBurst => (et::METER_MOD_FAILED, 7),
            BadMeterBand => (et::METER_MOD_FAILED, 8),
            OutOfMeters => (et::METER_MOD_FAILED, 10),
            OutOfBands => (et::METER_MOD_FAILED, 11),

            TableFeaturesEperm => (et::TABLE_FEATURES_FAILED, 5),
        }
    }

    /// OpenFlow 1.0.0 §5.4.4 numbers; errors 1.0 lacks take the nearest
    /// pair (noted per group).
    fn to_wire10(self) -> (u16, u16) {
        use OfError::*;
        // 1.0 codes used below.
        const BRC_BAD_TYPE: (u16, u16) = (et::BAD_REQUEST, 1);
        const BRC_BAD_STAT: (u16, u16) = (et::BAD_REQUEST, 2);
        const BRC_EPERM: (u16, u16) = (et::BAD_REQUEST, 5);
        const BRC_BAD_LEN: (u16, u16) = (et::BAD_REQUEST, 6);
        const BAC_BAD_TYPE: (u16, u16) = (et::BAD_ACTION, 0);
        const BAC_BAD_LEN: (u16, u16) = (et::BAD_ACTION, 1);
        const BAC_BAD_ARGUMENT: (u16, u16) = (et::BAD_ACTION, 5);
        const PMFC_BAD_PORT: (u16, u16) = (et::PORT_MOD_FAILED10, 0);
        match self {
            HelloIncompatible => (et::HELLO_FAILED, 0),

            BadVersion => (et::BAD_REQUEST, 0),
            BadType => BRC_BAD_TYPE,
            BadMultipart => BRC_BAD_STAT,
            BadExperimenter => (et::BAD_REQUEST, 3),
            BadExpType => (et::BAD_REQUEST, 4),
            Eperm => BRC_EPERM,
            BadLen => BRC_BAD_LEN,
            BufferUnknown => (et::BAD_REQUEST, 8),
            // 1.0 has no bad-table code; a table is a permission matter there.
            BadTableId => BRC_EPERM,
            // As OVS: OF1.0(1,5) is IS_SLAVE's 1.0 number.
            IsSlave => BRC_EPERM,
            // "Specified port does not exist" is 1.0's only port code.
            BadPort => PMFC_BAD_PORT,
            MultipartBufferOverflow => BRC_BAD_LEN,

            BadActionType => BAC_BAD_TYPE,
            BadActionLen => BAC_BAD_LEN,
            BadActionExperimenter => (et::BAD_ACTION, 2),
            BadActionExpType => (et::BAD_ACTION, 3),
            BadOutPort => (et::BAD_ACTION, 4),
            BadArgument => BAC_BAD_ARGUMENT,
            TooManyActions => (et::BAD_ACTION, 7),
            BadOutGroup | MatchInconsistent | BadSetArgument => BAC_BAD_ARGUMENT,
            // OFPFMFC_UNSUPPORTED: "cannot process in the order specified".
            UnsupportedOrder => (et::FLOW_MOD_FAILED10, 5),
            BadSetType => BAC_BAD_TYPE,
            BadSetLen => BAC_BAD_LEN,

            // Instructions: 1.0 has only actions.
            UnknownInst | UnsupInst => BAC_BAD_TYPE,
            BadInstLen => BAC_BAD_LEN,
            BadInstTableId | UnsupMetadataMask => BAC_BAD_ARGUMENT,

            // Matches: 1.0 has no match errors; the request is refused.
            BadMatchLen => BRC_BAD_LEN,
            BadMatchType | BadWildcards | BadField | BadValue | BadMask | BadPrereq | DupField => BRC_EPERM,

            TableFull => (et::FLOW_MOD_FAILED10, 0),
            Overlap => (et::FLOW_MOD_FAILED10, 1),
            FlowModBadTableId | BadFlags => (et::FLOW_MOD_FAILED10, 2),
            BadTimeout => (et::FLOW_MOD_FAILED10, 3),
            BadCommand => (et::FLOW_MOD_FAILED10, 4),

            // Groups and meters do not exist in 1.0.
            GroupExists | InvalidGroup | OutOfGroups | OutOfBuckets | ChainingUnsupported | GroupLoop
            | UnknownGroup | BadGroupType | BadGroupCommand | BadBucket | BadWatch => BRC_BAD_TYPE,
            MeterModUnknown | MeterExists | InvalidMeter | UnknownMeter | BadMeterCommand | BadMeterFlags
            | BadMeterRate | BadMeterBurst | BadMeterBand | OutOfMeters | OutOfBands => BRC_BAD_TYPE,

            PortModBadPort => PMFC_BAD_PORT,
            PortModBadHwAddr => (et::PORT_MOD_FAILED10, 1),
            PortModBadConfig => BRC_EPERM,

            // Nor table mods, roles, or table features.
            TableModBadTable | RoleStale | BadRole => BRC_BAD_TYPE,
            TableFeaturesEperm => BRC_BAD_STAT,

            // 1.0 has no switch-config errors.
            SwitchConfigBadFlags | SwitchConfigBadLen => BRC_EPERM,
        }
    }
}
