/** The dashboard page: one live view of the object manager that serves it. */
import { render } from 'preact';
import { App } from './app.tsx';
import './style.css';

render(<App />, document.getElementById('app')!);
