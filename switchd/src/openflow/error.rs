//! OFPT_ERROR: why a message was refused, as a version-independent code
//! that the codec turns into the type/code numbers of the connection's
//! version (OpenFlow 1.3.5 §A.4.4, OpenFlow 1.0.0 §5.4.4).

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
