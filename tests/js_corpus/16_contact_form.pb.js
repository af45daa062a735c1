// A contact form: the body bound to an object, checked, stored.
routerAdd("POST", "/api/corpus/contact", (e) => {
    const data = new DynamicModel({ email: "", message: "" });
    e.bindBody(data);
    if (!/^[^@\s]+@[^@\s]+$/.test(data.email) || !data.message) {
        throw new BadRequestError("Invalid form.", {
            email: { code: "validation_invalid_email", message: "Must be a valid email address." },
        });
    }
    const col = $app.findCollectionByNameOrId("messages");
    const msg = new Record(col, { email: data.email, message: data.message });
    $app.save(msg);
    return e.json(201, { id: msg.id });
});
