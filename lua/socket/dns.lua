-- require("socket.dns") is the `dns` table of require("socket") (API.md §1).
return require("socket").dns
