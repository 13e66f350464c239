// The consultant's desk: the number of people waiting, pushed over Socket.IO without a reload.
import { connect } from "./socket.js";

const socket = connect("/consult");
socket.on("queue_size", (d) => { document.getElementById("queue-size").textContent = d.waiting; });
