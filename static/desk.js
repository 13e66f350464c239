// The consultant's desk: the number of people waiting, pushed over Socket.IO without a reload.
import { io } from "./vendor/socket.io.esm.min.js";

const socket = io("/consult");
socket.on("queue_size", (d) => { document.getElementById("queue-size").textContent = d.waiting; });
