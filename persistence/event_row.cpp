// Reading an events row (see event_row.hpp).
#include "persistence/event_row.hpp"

#include "persistence/sqlite_handle.hpp"

namespace obs::persistence {

domain::stored_event stored_event_from(sqlite3_stmt* s) {
    domain::stored_event ev;
    ev.offset = sqlite3_column_int64(s, 0);
    ev.id = std::string{column_text_view(s, 1)};
    ev.run_id = std::string{column_text_view(s, 2)};
    ev.seq = sqlite3_column_int64(s, 3);
    // Only the writer stores types, from the enum; an unknown name is a
    // damaged row, shown as a log event rather than failing the page.
    ev.type = domain::parse_event_type(column_text_view(s, 4)).value_or(domain::event_type::log);
    ev.ts_ms = sqlite3_column_int64(s, 5);
    ev.received_ms = sqlite3_column_int64(s, 6);
    ev.node = column_optional_text(s, 7);
    ev.parent_id = column_optional_text(s, 8);
    ev.payload_json = std::string{column_text_view(s, 9)};
    return ev;
}

}  // namespace obs::persistence
