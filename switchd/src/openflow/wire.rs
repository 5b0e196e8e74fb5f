//! Numbers of the OpenFlow wire format (OpenFlow 1.3.5 and 1.0.0):
//! message types, multipart types, port numbers, flags, OXM classes.
