import * as core from '@actions/core'
import fetch from 'node-fetch'
core.info(`hello ${typeof fetch}`)
