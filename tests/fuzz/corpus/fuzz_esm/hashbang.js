#!/usr/bin/env node
import x from "m"
export default x
