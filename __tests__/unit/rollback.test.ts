import { describe, expect, it } from '@jest/globals'
import { chooseRollback } from '../../src/rollback.js'

const row = (deploymentId: string, status: string, rollbackId?: string) => ({ deploymentId, status, createdAt: null, rollbackId, image: rollbackId && `reg/app:${rollbackId}` })

describe('chooseRollback', () => {
  const rows = [row('D5', 'error', 'R5'), row('D4', 'done', 'R4'), row('D3', 'done'), row('D2', 'error', 'R2'), row('D1', 'done', 'R1')]

  it('by default: the newest done deployment with a rollback, older than the newest done one', () => {
    expect(chooseRollback(rows)?.deploymentId).toBe('D1')
    expect(chooseRollback([row('D2', 'done', 'R2'), row('D1', 'done', 'R1')])?.deploymentId).toBe('D1')
  })

  it('after a failed deploy: the newest good one before that deploy', () => {
    expect(chooseRollback([row('D3', 'done', 'R3'), row('D2', 'done', 'R2'), row('D1', 'done', 'R1')], 'D3')?.deploymentId).toBe('D2')
  })

  it('none: no done deployment with a rollback before, or the current one not listed', () => {
    expect(chooseRollback([row('D2', 'done', 'R2'), row('D1', 'done')])).toBeUndefined()
    expect(chooseRollback([row('D1', 'done', 'R1')])).toBeUndefined()
    expect(chooseRollback(rows, 'D9')).toBeUndefined()
  })
})
