// Validation a rule cannot express: titles must not shout.
onRecordCreateRequest((e) => {
    const title = e.record.getString("title");
    if (title.length > 3 && title === title.toUpperCase()) {
        throw new BadRequestError("Please do not shout.", {
            title: { code: "validation_shouting", message: "Use lower case letters." },
        });
    }
    e.next();
}, "posts");
