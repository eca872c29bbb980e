import * as core from '@actions/core'
import { run } from './main.js'
import { readTestKnobs } from './test-knobs.js'

void run((name) => core.getInput(name), readTestKnobs(process.env))
