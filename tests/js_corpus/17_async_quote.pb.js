// An async route: awaits a timer and an outside service.
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

routerAdd("GET", "/api/corpus/quote", async (e) => {
    await wait(10);
    const base = $os.getenv("CORPUS_WEBHOOK_URL");
    const res = await $http.send({ url: base + "/quote", method: "GET" });
    return e.json(200, { quote: res.json.text, status: res.statusCode });
});
