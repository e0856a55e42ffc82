// UUIDs: random ones (version 4) for WARC-Record-ID, and the capture id of a record.
#pragma once

#include <string>
#include <string_view>

namespace vellum::util {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower case, from the kernel's random source.
std::string uuid4();

// "<urn:uuid:...>", the WARC-Record-ID form.
std::string new_record_id();

// True for a UUID in the form capture ids take: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", 32
// lower-case hex digits. Only such a text names files (article sidecars) or is looked up as one.
bool is_capture_id(std::string_view text);

// The capture id of the record with WARC-Record-ID `record_id`: the UUID of "<urn:uuid:UUID>"
// in lower case. A record ID of another form (another URI, a malformed UUID), as other tools may
// write, gets the name-based UUID (version 5, RFC 9562) of the URI between its angle brackets
// in the URL namespace, so the id is always a UUID and the same whenever the record is indexed.
std::string capture_id_of(std::string_view record_id);

// A capture id as a person may write it: "UUID" or "urn:uuid:UUID" in any case, or the record
// ID in its angle brackets ("<urn:uuid:UUID>", "<http://...>", as `vellum show` prints it); the
// capture id, or the text unchanged (a prefix, or not an id) when it is none of these.
std::string capture_id_from_user(std::string_view text);

}  // namespace vellum::util
