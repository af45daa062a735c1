const t = `a${ {b: "}"}.b }c`; export const x = /re[/]/g
