// Whether the client behind a request has hung up, for a handler that has nothing to write to
// it yet (a non-streamed reply is written once, at the end). cpp-httplib 0.11 gives a handler
// no handle on its connection, so the socket is found among this process's descriptors by the
// two endpoints the request records.
#pragma once

#include <string>

namespace lightseek::server {

// True when the connection from remote_addr:remote_port to local_port has been closed or
// half-closed by the client (end of file or a socket error). False when the connection is
// open or cannot be found: a request is never cancelled on a guess.
bool client_has_hung_up(const std::string& remote_addr, int remote_port, int local_port);

}  // namespace lightseek::server
