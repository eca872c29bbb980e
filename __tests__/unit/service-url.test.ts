import { describe, expect, it } from '@jest/globals'
import { serviceUrl } from '../../src/service-url.js'
import type { DomainRow } from '../../src/dokploy/api.js'

const domain = (host: string, https: boolean, path?: string, enabled = true): DomainRow => ({ host, https, path, enabled })

describe('serviceUrl', () => {
  it('takes the first https domain, else the first domain', () => {
    expect(serviceUrl([domain('a.example.com', false), domain('b.example.com', true), domain('c.example.com', true)])).toBe('https://b.example.com')
    expect(serviceUrl([domain('a.example.com', false), domain('b.example.com', false)])).toBe('http://a.example.com')
  })

  it('is scheme://host plus the path; a bare / adds nothing', () => {
    expect(serviceUrl([domain('a.example.com', true, '/')])).toBe('https://a.example.com')
    expect(serviceUrl([domain('a.example.com', true, '')])).toBe('https://a.example.com')
    expect(serviceUrl([domain('a.example.com', true, '/app/')])).toBe('https://a.example.com/app/')
    expect(serviceUrl([domain('a.example.com', true, 'app')])).toBe('https://a.example.com/app')
    expect(serviceUrl([domain('a.example.com:8443', true, '/x y')])).toBe('https://a.example.com:8443/x%20y')
  })

  it('is undefined without a domain', () => {
    expect(serviceUrl([])).toBeUndefined()
  })

  it('skips disabled domains', () => {
    expect(serviceUrl([domain('off.example.com', true, '/', false), domain('on.example.com', false)])).toBe('http://on.example.com')
    expect(serviceUrl([domain('off.example.com', true, '/', false)])).toBeUndefined()
  })

  it('gives no URL for a host that is not a host name, rather than a wrong one', () => {
    for (const host of ['evil.com/<script>', 'user@evil.com', 'a b.com', 'evil.com?x', 'evil.com#x', '']) {
      expect(serviceUrl([domain(host, true)])).toBeUndefined()
    }
  })

  it('keeps a query or fragment in the path out of the URL', () => {
    expect(serviceUrl([domain('a.example.com', true, '/app?x=1#y')])).toBe('https://a.example.com/app')
  })
})
