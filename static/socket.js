// One place where the pages open their Socket.IO connection. Websocket first, long-polling as the
// fallback for networks that block websockets — except where the server runs several processes on
// one port (odr run --workers N), which marks the page: a polling client's next request could
// reach another process, so only websockets are used there.
import { io } from "./vendor/socket.io.esm.min.js";

export function connect(namespace) {
  const only = document.body.hasAttribute("data-websocket-only");
  return io(namespace, { transports: only ? ["websocket"] : ["websocket", "polling"] });
}
