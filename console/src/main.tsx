import { render } from 'preact'
import { App } from './app.js'
import { start } from './session.js'
import './console.css'

render(<App />, document.getElementById('app')!)
void start()
