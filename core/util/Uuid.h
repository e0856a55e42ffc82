// Random (version 4) UUIDs for WARC-Record-ID.
#pragma once

#include <string>

namespace vellum::util {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower case, from the kernel's random source.
std::string uuid4();

// "<urn:uuid:...>", the WARC-Record-ID form.
std::string new_record_id();

// The bare UUID inside "<urn:uuid:...>"; the input unchanged when it has another form.
std::string record_id_uuid(const std::string& record_id);

}  // namespace vellum::util
